/** A process of the local stack, supervised: output logged, restarted with a backoff when it exits unexpectedly. */
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import process from 'node:process';
import { clearTimeout, setTimeout } from 'node:timers';
import { warn } from './output.mjs';

const BACKOFF_INITIAL_MS = 500;
const BACKOFF_MAX_MS = 5_000;
/** A child that ran this long before exiting starts over with the initial backoff. */
const BACKOFF_RESET_AFTER_MS = 30_000;
/** Lines of recent output kept per child, shown when it fails to become ready. */
const RECENT_LINES = 40;

/**
 * @typedef {object} ChildOptions
 * @property {string} name         also the log file name and the output prefix
 * @property {string} command
 * @property {string[]} args
 * @property {string} cwd
 * @property {NodeJS.ProcessEnv} env
 * @property {string} logFile
 * @property {boolean} logToStdout
 * @property {() => void} onPidChange
 * @property {string} [lifeline] util-linux's `setpriv`: when given, the child is started
 *   through it with a parent-death signal, so that it stops if the supervisor is killed
 */

/** One supervised process, restarted with a backoff when it exits unexpectedly. */
export class Child {
  /** @param {ChildOptions} options */
  constructor(options) {
    this.options = options;
    this.name = options.name;
    /** @type {import('node:child_process').ChildProcess | null} */
    this.proc = null;
    /** @type {number | null} */
    this.pid = null;
    this.startedAt = 0;
    this.backoffMs = BACKOFF_INITIAL_MS;
    /** Whether an unexpected exit is followed by a restart. */
    this.autoRestart = true;
    /** Set once the child is being stopped on purpose. */
    this.stopping = false;
    /** @type {NodeJS.Timeout | null} */
    this.restartTimer = null;
    /** @type {string[]} */
    this.recent = [];
    /** @type {Set<(line: string) => void>} */
    this.lineListeners = new Set();
    /** @type {Set<() => void>} */
    this.exitListeners = new Set();
    this.log = createWriteStream(options.logFile, { flags: 'a' });
    this.log.on('error', (err) => warn(`cannot write ${options.logFile}: ${err.message}`));
  }

  /** Whether the process is running. */
  get running() {
    return this.proc !== null;
  }

  start() {
    this.restartTimer = null;
    if (this.stopping || this.proc) return;
    const { command, args, env, lifeline } = this.options;
    // setpriv sets the signal and then runs the command itself: the pid stays the child's.
    const [file, argv] = lifeline ? [lifeline, ['--pdeathsig', 'TERM', '--', command, ...args]] : [command, args];
    const proc = spawn(file, argv, {
      cwd: this.options.cwd,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      // Own process group: a Ctrl-C in the terminal reaches only the supervisor,
      // which then stops the children in order.
      detached: true,
    });
    this.proc = proc;
    this.pid = proc.pid ?? null;
    this.startedAt = Date.now();
    this.log.write(`--- ${new Date().toISOString()} local-stack: started ${this.name} (pid ${proc.pid ?? '?'}): ${[command, ...args].join(' ')}\n`);
    this.#pipe(proc.stdout);
    this.#pipe(proc.stderr);
    let exited = false;
    /** @param {number | null} code @param {NodeJS.Signals | null} signal */
    const onExit = (code, signal) => {
      if (exited) return;
      exited = true;
      this.#exited(proc, code, signal);
    };
    proc.on('error', (err) => {
      this.#remember(`local-stack: cannot run ${command}: ${err.message}`);
      // A process that could not be spawned emits no 'exit'.
      if (proc.pid === undefined) onExit(null, null);
    });
    proc.on('exit', onExit);
    this.options.onPidChange();
  }

  /**
   * @param {import('node:child_process').ChildProcess} proc
   * @param {number | null} code
   * @param {NodeJS.Signals | null} signal
   */
  #exited(proc, code, signal) {
    if (this.proc !== proc) return;
    this.proc = null;
    this.pid = null;
    const how = signal ? `signal ${signal}` : `code ${code ?? '?'}`;
    this.log.write(`--- ${new Date().toISOString()} local-stack: ${this.name} exited with ${how}\n`);
    this.options.onPidChange();
    for (const listener of [...this.exitListeners]) listener();
    if (this.stopping || !this.autoRestart) return;
    const uptime = Date.now() - this.startedAt;
    if (uptime >= BACKOFF_RESET_AFTER_MS) this.backoffMs = BACKOFF_INITIAL_MS;
    const delay = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, BACKOFF_MAX_MS);
    warn(`${this.name} exited with ${how} after ${(uptime / 1000).toFixed(1)} s; restarting in ${(delay / 1000).toFixed(1)} s`);
    this.restartTimer = setTimeout(() => this.start(), delay);
  }

  /** @param {import('node:stream').Readable | null} stream */
  #pipe(stream) {
    if (!stream) return;
    let pending = '';
    stream.on('data', (/** @type {Buffer} */ chunk) => {
      this.log.write(chunk);
      pending += chunk.toString('utf8');
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) this.#line(line);
    });
    stream.on('end', () => {
      if (pending !== '') this.#line(pending);
      pending = '';
    });
  }

  /** @param {string} line */
  #line(line) {
    this.#remember(line);
    if (this.options.logToStdout) process.stdout.write(`${this.name.padEnd(10)}| ${line}\n`);
    for (const listener of [...this.lineListeners]) listener(line);
  }

  /** @param {string} line */
  #remember(line) {
    this.recent.push(line);
    if (this.recent.length > RECENT_LINES) this.recent.shift();
  }

  /** Resolves when the current process has exited (at once if none is running). */
  waitForExit() {
    if (!this.proc) return Promise.resolve();
    return new Promise((resolve) => {
      const listener = () => {
        this.exitListeners.delete(listener);
        resolve(undefined);
      };
      this.exitListeners.add(listener);
    });
  }

  /** @param {NodeJS.Signals} signal */
  signal(signal) {
    try {
      this.proc?.kill(signal);
    } catch {
      // Gone already.
    }
  }

  /**
   * Stops the child for good: SIGTERM, then SIGKILL after `graceMs`.
   * @param {number} graceMs
   */
  async stop(graceMs) {
    this.stopping = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = null;
    if (!this.proc) return;
    const exited = this.waitForExit();
    this.signal('SIGTERM');
    /** @type {NodeJS.Timeout | undefined} */
    let timer;
    const timedOut = await Promise.race([
      exited.then(() => false),
      new Promise((resolve) => {
        timer = setTimeout(() => resolve(true), graceMs);
      }),
    ]);
    clearTimeout(timer);
    if (timedOut) {
      warn(`${this.name} did not exit within ${graceMs / 1000} s of SIGTERM; killing it`);
      this.signal('SIGKILL');
      await exited;
    }
  }

  /** Kills the child at once and does not restart it. */
  kill() {
    this.stopping = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = null;
    this.signal('SIGKILL');
  }

  close() {
    this.log.end();
  }
}
