#!/usr/bin/env node
/**
 * Weft local stack: runs the same topology as the Kubernetes deployment, as local
 * processes under a small supervisor.
 *
 *   nats-server (JetStream)  ->  API  +  N workers
 *
 * `npm start` builds the services and runs this script (scripts/start.sh).
 * Children that exit unexpectedly are restarted with an exponential backoff, as
 * a Deployment would restart a pod. Ctrl-C (SIGINT) or SIGTERM shuts the stack
 * down in order: workers first (they drain), then the API, then nats-server; a
 * second Ctrl-C kills everything at once.
 *
 * Settings come from the environment, overridden by command-line flags:
 *
 *   WEFT_HOME       --home DIR        state directory (default: <repo>/.weft);
 *                                     JetStream data in DIR/data, logs in DIR/logs
 *   WEFT_DATA_ROOT                    the shared volume of `{"path": …}` file inputs
 *                                     (default: DIR/volume)
 *   WEFT_NATS_PORT  --nats-port N     nats-server client port (default: 4222)
 *   WEFT_API_HOST                     address the API binds to (default: 127.0.0.1)
 *   WEFT_API_PORT   --api-port N      API port (default: 8080)
 *   WEFT_WORKERS    --workers N       number of workers (default: 2)
 *   WEFT_THREADS                      threads of each worker's CPU pool (default: the
 *                                     machine's CPUs divided among the workers, at least 1)
 *   WEFT_LOG_STDOUT                   1: copy child output to stdout, 0: do not
 *                                     (default: only when stdout is a terminal)
 *   WEFT_NATS_SERVER                  nats-server binary (default: PATH, /usr/sbin)
 *   WEFT_API_ENTRY, WEFT_WORKER_ENTRY entry scripts of the API and the worker
 *                                     (default: services/{api,worker}/dist/src/...)
 *
 * Every other environment variable is passed to the children unchanged.
 * The supervisor keeps $WEFT_HOME/stack.json up to date with the pids of all
 * processes so that tests and tools can find (and kill) them.
 */
import { spawn } from 'node:child_process';
import {
  createWriteStream,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import process from 'node:process';
import { clearTimeout, setTimeout } from 'node:timers';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { workerConfigFromEnv } from '@weft/shared';
import { findNatsServerBinary } from '@weft/shared/testing';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const NATS_READY_TIMEOUT_MS = 15_000;
const API_READY_TIMEOUT_MS = 30_000;
/** Beyond a worker's drain timeout (`WEFT_DRAIN_TIMEOUT_MS`), how long it may take to exit. */
const WORKER_EXIT_MARGIN_MS = 5_000;
const API_STOP_GRACE_MS = 10_000;
const NATS_STOP_GRACE_MS = 10_000;
const BACKOFF_INITIAL_MS = 500;
const BACKOFF_MAX_MS = 5_000;
/** A child that ran this long before exiting starts over with the initial backoff. */
const BACKOFF_RESET_AFTER_MS = 30_000;
/**
 * `npm start` forwards the SIGINT of a Ctrl-C to us although the terminal already
 * sent it: a second SIGINT this soon after the first is the same keypress.
 */
const DUPLICATE_SIGNAL_WINDOW_MS = 1_000;
/** Lines of recent output kept per child, shown when it fails to become ready. */
const RECENT_LINES = 40;

const USAGE = `Usage: node scripts/local-stack.mjs [--workers N] [--api-port N] [--nats-port N] [--home DIR]

Runs nats-server, the Weft API and N workers as local processes (see the
comment at the top of this file for the environment variables it reads).`;

// ---------------------------------------------------------------------------
// Output of the supervisor itself.

process.stdout.on('error', () => {
  // stdout was closed (e.g. piped into `head`); keep supervising regardless.
});

/** @param {string} message */
function say(message) {
  process.stdout.write(`[stack] ${message}\n`);
}

/** @param {string} message */
function warn(message) {
  process.stderr.write(`[stack] ${message}\n`);
}

/**
 * Exits with status 1 before anything was started.
 * @param {string} message
 * @returns {never}
 */
function fatal(message) {
  process.stderr.write(`[stack] error: ${message}\n`);
  process.exit(1);
}

// ---------------------------------------------------------------------------
// Settings.

/**
 * @typedef {object} Settings
 * @property {string} home
 * @property {number} natsPort
 * @property {string} apiHost
 * @property {number} apiPort
 * @property {number} workers
 * @property {boolean} logToStdout
 * @property {string} natsBinary
 * @property {string} apiEntry
 * @property {string} workerEntry
 */

/**
 * @param {string} name
 * @param {string} value
 * @param {number} min
 * @param {number} max
 */
function parseInteger(name, value, min, max) {
  if (!/^\d+$/.test(value)) fatal(`${name} must be a whole number, got ${JSON.stringify(value)}`);
  const number = Number(value);
  if (number < min || number > max) fatal(`${name} must be between ${min} and ${max}, got ${number}`);
  return number;
}

/** The nats-server binary, found as the tests find it (WEFT_NATS_SERVER, PATH, /usr/sbin, /usr/bin). */
function findNatsServer() {
  try {
    return findNatsServerBinary();
  } catch (err) {
    return fatal(err instanceof Error ? err.message : String(err));
  }
}

/**
 * @param {string[]} argv
 * @param {NodeJS.ProcessEnv} env
 * @returns {Settings}
 */
function parseSettings(argv, env) {
  /** @type {Record<string, string>} */
  const flags = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === '-h' || arg === '--help') {
      process.stdout.write(`${USAGE}\n`);
      process.exit(0);
    }
    const match = /^--(workers|api-port|nats-port|home)(?:=(.*))?$/.exec(arg);
    if (!match) fatal(`unknown argument ${JSON.stringify(arg)}\n${USAGE}`);
    const name = /** @type {string} */ (match[1]);
    let value = match[2];
    if (value === undefined) {
      i += 1;
      value = argv[i];
      if (value === undefined) fatal(`--${name} needs a value`);
    }
    flags[name] = value;
  }

  const home = path.resolve(flags.home ?? (env.WEFT_HOME || path.join(REPO_ROOT, '.weft')));
  const logSetting = env.WEFT_LOG_STDOUT;
  /** @param {string | undefined} file @param {string} fallback */
  const entry = (file, fallback) => path.resolve(REPO_ROOT, file || fallback);
  return {
    home,
    natsPort: parseInteger('the NATS port', flags['nats-port'] ?? (env.WEFT_NATS_PORT || '4222'), 1, 65535),
    apiHost: env.WEFT_API_HOST || '127.0.0.1',
    apiPort: parseInteger('the API port', flags['api-port'] ?? (env.WEFT_API_PORT || '8080'), 1, 65535),
    workers: parseInteger('the number of workers', flags.workers ?? (env.WEFT_WORKERS || '2'), 0, 64),
    logToStdout: logSetting === undefined || logSetting === '' ? process.stdout.isTTY === true : logSetting !== '0',
    natsBinary: findNatsServer(),
    apiEntry: entry(env.WEFT_API_ENTRY, 'services/api/dist/src/server.js'),
    workerEntry: entry(env.WEFT_WORKER_ENTRY, 'services/worker/dist/src/main.js'),
    // Workers drain for as long as their own settings say: they read the same variable.
    workerStopGraceMs: workerDrainTimeoutMs(env) + WORKER_EXIT_MARGIN_MS,
  };
}

/** The workers' drain timeout, as they resolve it themselves. @param {NodeJS.ProcessEnv} env */
function workerDrainTimeoutMs(env) {
  try {
    return workerConfigFromEnv(env).drainTimeoutMs;
  } catch (err) {
    // The workers will not start either, and will say why.
    warn(`cannot read the workers' settings: ${err instanceof Error ? err.message : String(err)}`);
    return 0;
  }
}

// ---------------------------------------------------------------------------
// Supervised children.

/**
 * @typedef {object} ChildOptions
 * @property {string} name         also the log file name and the output prefix
 * @property {string} command
 * @property {string[]} args
 * @property {NodeJS.ProcessEnv} env
 * @property {string} logFile
 * @property {boolean} logToStdout
 * @property {() => void} onPidChange
 */

/** One supervised process, restarted with a backoff when it exits unexpectedly. */
class Child {
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
    const { command, args, env } = this.options;
    const proc = spawn(command, args, {
      cwd: REPO_ROOT,
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

// ---------------------------------------------------------------------------
// Probes.

/**
 * Fails if something already listens on host:port.
 * @param {string} host
 * @param {number} port
 * @param {string} hint
 */
async function assertPortFree(host, port, hint) {
  const error = await new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', (err) => resolve(err));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(null)));
  });
  if (error === null) return;
  const code = /** @type {NodeJS.ErrnoException} */ (error).code;
  if (code === 'EADDRINUSE') fatal(`port ${port} on ${host} is already in use. ${hint}`);
  fatal(`cannot use ${host}:${port}: ${/** @type {Error} */ (error).message}`);
}

/**
 * Resolves true if a TCP connection to host:port succeeds.
 * @param {string} host
 * @param {number} port
 */
function canConnect(host, port) {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    socket.setTimeout(1000);
    const done = (/** @type {boolean} */ ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.once('timeout', () => done(false));
  });
}

/**
 * Resolves with the HTTP status of GET url, or 0 if there was no answer.
 * @param {string} url
 */
function httpStatus(url) {
  return new Promise((resolve) => {
    const request = http.get(url, { timeout: 2000 }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    request.once('timeout', () => request.destroy());
    request.once('error', () => resolve(0));
  });
}

/**
 * Host to connect to for a service bound to `host`.
 * @param {string} host
 */
function connectHost(host) {
  return host === '0.0.0.0' || host === '::' || host === '' ? '127.0.0.1' : host;
}

/**
 * host:port for URLs, with brackets around IPv6 addresses.
 * @param {string} host
 * @param {number} port
 */
function hostPort(host, port) {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * Stops what a supervisor that died (SIGKILL, out of memory) left running, as its
 * stack.json names it: its children would keep the ports and the data directory. A
 * pid counts only if its process started before that file was last written (a pid
 * used again since is another process). Linux only (it reads /proc).
 * @param {any} previous the dead supervisor's stack.json
 * @param {number} writtenAtMs when that file was last written
 */
async function stopLeftovers(previous, writtenAtMs) {
  const pids = [previous?.nats?.pid, previous?.api?.pid, ...(Array.isArray(previous?.workers) ? previous.workers.map((/** @type {any} */ w) => w?.pid) : [])];
  const left = pids.filter((pid) => typeof pid === 'number' && pid > 1 && isAlive(pid) && (startedAtMs(pid) ?? Infinity) <= writtenAtMs + 1000);
  if (left.length === 0) return;
  warn(`the last supervisor of ${settings.home} died and left ${left.length} of its processes running (pids ${left.join(', ')}); stopping them`);
  for (const pid of left) signalPid(pid, 'SIGTERM');
  const deadline = Date.now() + WORKER_EXIT_MARGIN_MS + workerDrainTimeoutMs(process.env);
  while (left.some(isAlive) && Date.now() < deadline) await sleep(100);
  for (const pid of left.filter(isAlive)) signalPid(pid, 'SIGKILL');
  while (left.some(isAlive)) await sleep(50);
}

/** When process `pid` started, in ms since the epoch; undefined when unknown. @param {number} pid */
function startedAtMs(pid) {
  try {
    // Field 22 of /proc/<pid>/stat, after the parenthesised name: clock ticks since boot.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    const ticks = Number(fields[19]);
    const bootSeconds = Number(/^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'))?.[1]);
    return Number.isFinite(ticks) && Number.isFinite(bootSeconds) ? bootSeconds * 1000 + (ticks / CLOCK_TICKS_PER_SECOND) * 1000 : undefined;
  } catch {
    return undefined;
  }
}

/** Linux's clock ticks per second (USER_HZ), in which /proc reports process start times. */
const CLOCK_TICKS_PER_SECOND = 100;

/** @param {number} pid @param {NodeJS.Signals} signal */
function signalPid(pid, signal) {
  try {
    process.kill(pid, signal);
  } catch {
    // Gone already.
  }
}

/** @param {number} pid */
function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return /** @type {NodeJS.ErrnoException} */ (err).code === 'EPERM';
  }
}

// ---------------------------------------------------------------------------
// The stack.

const settings = parseSettings(process.argv.slice(2), process.env);
const dataDir = path.join(settings.home, 'data');
const logsDir = path.join(settings.home, 'logs');
// Every process sees the same shared volume, as pods mounting one claim would.
const volumeDir = path.resolve(process.env.WEFT_DATA_ROOT || path.join(settings.home, 'volume'));
const stateFile = path.join(settings.home, 'stack.json');
const natsUrl = `nats://127.0.0.1:${settings.natsPort}`;
const apiUrl = `http://${hostPort(connectHost(settings.apiHost), settings.apiPort)}`;

for (const [what, file] of [
  ['API', settings.apiEntry],
  ['worker', settings.workerEntry],
]) {
  try {
    statSync(/** @type {string} */ (file));
  } catch {
    fatal(`the ${what} entry point ${file} does not exist; build first with \`npx tsc -b\` (npm start does)`);
  }
}

mkdirSync(dataDir, { recursive: true });
mkdirSync(logsDir, { recursive: true });
mkdirSync(volumeDir, { recursive: true });

// Another supervisor on the same home would share the JetStream data directory.
try {
  const previous = JSON.parse(readFileSync(stateFile, 'utf8'));
  const pid = previous?.supervisorPid;
  if (typeof pid === 'number' && pid !== process.pid && isAlive(pid)) {
    fatal(`a local stack is already running from ${settings.home} (supervisor pid ${pid}); stop it first (kill -TERM ${pid})`);
  }
  await stopLeftovers(previous, statSync(stateFile).mtimeMs);
} catch (err) {
  if (/** @type {NodeJS.ErrnoException} */ (err).code !== 'ENOENT' && !(err instanceof SyntaxError)) throw err;
}

await assertPortFree(
  '127.0.0.1',
  settings.natsPort,
  'Is another nats-server running? (Debian\'s package starts one on 4222: `sudo systemctl disable --now nats-server`.) Or pick another port with --nats-port N.',
);
await assertPortFree(settings.apiHost, settings.apiPort, 'Pick another port with --api-port N.');

let shuttingDown = false;
let stateWritesEnabled = true;

/** Writes stack.json atomically (temporary file, then rename). */
function writeState() {
  if (!stateWritesEnabled) return;
  const state = {
    supervisorPid: process.pid,
    home: settings.home,
    logsDir,
    nats: { pid: nats.pid, url: natsUrl },
    api: { pid: api.pid, url: apiUrl },
    workers: workers.map((worker) => ({ name: worker.name, pid: worker.pid })),
  };
  const temporary = `${stateFile}.${process.pid}.tmp`;
  try {
    writeFileSync(temporary, `${JSON.stringify(state, null, 2)}\n`);
    renameSync(temporary, stateFile);
  } catch (err) {
    warn(`cannot write ${stateFile}: ${/** @type {Error} */ (err).message}`);
  }
}

/**
 * @param {string} name
 * @param {string} command
 * @param {string[]} args
 * @param {NodeJS.ProcessEnv} extraEnv
 */
function makeChild(name, command, args, extraEnv) {
  return new Child({
    name,
    command,
    args,
    env: { ...process.env, WEFT_DATA_ROOT: volumeDir, ...extraEnv },
    logFile: path.join(logsDir, `${name}.log`),
    logToStdout: settings.logToStdout,
    onPidChange: writeState,
  });
}

const nats = makeChild(
  'nats',
  settings.natsBinary,
  ['-js', '-sd', dataDir, '-a', '127.0.0.1', '-p', String(settings.natsPort), '-n', 'weft-local'],
  {},
);
const api = makeChild('api', process.execPath, [settings.apiEntry], {
  WEFT_NATS_URL: natsUrl,
  WEFT_API_HOST: settings.apiHost,
  WEFT_API_PORT: String(settings.apiPort),
});
// The workers share this machine's CPUs as pods share a node's: each gets its share
// of threads (at least one) unless WEFT_THREADS says otherwise, so that the thread
// pools together do not oversubscribe the CPUs.
const threadsPerWorker = process.env.WEFT_THREADS || String(Math.max(1, Math.floor(os.availableParallelism() / Math.max(1, settings.workers))));
/** @type {Child[]} */
const workers = [];
for (let i = 1; i <= settings.workers; i++) {
  const name = `worker-${i}`;
  workers.push(
    makeChild(name, process.execPath, [settings.workerEntry], { WEFT_NATS_URL: natsUrl, WEFT_WORKER_NAME: name, WEFT_THREADS: threadsPerWorker }),
  );
}
const everyone = [nats, api, ...workers];

/**
 * Stops everything in order and exits with `exitCode`.
 * @param {number} exitCode
 */
async function shutdown(exitCode) {
  if (shuttingDown) return;
  shuttingDown = true;
  for (const child of everyone) child.autoRestart = false;
  if (workers.some((worker) => worker.running)) say('stopping workers (they finish their current tasks first)');
  await Promise.all(workers.map((worker) => worker.stop(settings.workerStopGraceMs)));
  if (api.running) say('stopping the API');
  await api.stop(API_STOP_GRACE_MS);
  if (nats.running) say('stopping nats-server');
  await nats.stop(NATS_STOP_GRACE_MS);
  finish(exitCode);
}

/**
 * Removes stack.json, closes the logs and exits.
 * @param {number} exitCode
 * @returns {never}
 */
function finish(exitCode) {
  stateWritesEnabled = false;
  rmSync(stateFile, { force: true });
  for (const child of everyone) child.close();
  if (exitCode === 0) say('stopped');
  process.exit(exitCode);
}

/** Kills every child at once. */
function killAll() {
  for (const child of everyone) child.kill();
}

// Whatever happens to the supervisor, do not leave children behind.
process.on('exit', () => {
  for (const child of everyone) child.signal('SIGKILL');
});

let firstSignalAt = 0;
/** @param {NodeJS.Signals} signal */
function onSignal(signal) {
  if (!shuttingDown) {
    firstSignalAt = Date.now();
    say(`${signal}: shutting down (press Ctrl-C again to kill everything at once)`);
    void shutdown(0);
    return;
  }
  if (signal === 'SIGINT' && Date.now() - firstSignalAt > DUPLICATE_SIGNAL_WINDOW_MS) {
    warn('SIGINT again: killing everything');
    killAll();
    stateWritesEnabled = false;
    rmSync(stateFile, { force: true });
    process.exit(130);
  }
}
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);
process.on('SIGHUP', onSignal);

/**
 * Prints why the stack could not start, stops what runs and exits with 1.
 * @param {string} message
 * @param {Child} culprit
 */
async function failStartup(message, culprit) {
  if (shuttingDown) return;
  const output = culprit.recent.length > 0 ? culprit.recent.map((line) => `  ${line}`).join('\n') : '  (no output)';
  warn(`error: ${message}\n  last output of ${culprit.name} (full log: ${path.join(logsDir, `${culprit.name}.log`)}):\n${output}`);
  await shutdown(1);
}

/** Resolves true once nats-server accepts connections, false if it exits or times out first. */
async function waitForNats() {
  let sawReady = false;
  const onLine = (/** @type {string} */ line) => {
    if (line.includes('Server is ready')) sawReady = true;
  };
  nats.lineListeners.add(onLine);
  try {
    const deadline = Date.now() + NATS_READY_TIMEOUT_MS;
    while (Date.now() < deadline && !shuttingDown) {
      if (!nats.running) return false;
      if (sawReady || (await canConnect('127.0.0.1', settings.natsPort))) return nats.running;
      await sleep(100);
    }
    return false;
  } finally {
    nats.lineListeners.delete(onLine);
  }
}

/** Resolves true once GET /readyz answers 200. */
async function waitForApi() {
  const deadline = Date.now() + API_READY_TIMEOUT_MS;
  while (Date.now() < deadline && !shuttingDown) {
    if (api.running && (await httpStatus(`${apiUrl}/readyz`)) === 200) return true;
    await sleep(250);
  }
  return false;
}

say(`home ${settings.home}; logs in ${logsDir}`);
writeState();

// nats-server first; while it starts, an exit means a real problem (bad flags, port
// taken, damaged data), so it is not restarted until it has been ready once.
nats.autoRestart = false;
nats.start();
if (!(await waitForNats())) {
  await failStartup(
    nats.running
      ? `nats-server did not become ready within ${NATS_READY_TIMEOUT_MS / 1000} s`
      : 'nats-server exited before it was ready',
    nats,
  );
} else {
  nats.autoRestart = true;
  say(`nats-server ready at ${natsUrl} (pid ${nats.pid ?? '?'}, data in ${dataDir})`);

  api.start();
  for (const worker of workers) worker.start();
  if (!(await waitForApi())) {
    await failStartup(`the API did not answer GET ${apiUrl}/readyz with 200 within ${API_READY_TIMEOUT_MS / 1000} s`, api);
  } else if (!shuttingDown) {
    const curlHost = hostPort(connectHost(settings.apiHost) === '127.0.0.1' ? 'localhost' : settings.apiHost, settings.apiPort);
    const relative = path.relative(process.cwd(), logsDir);
    const shownLogs = relative !== '' && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : logsDir;
    process.stdout.write(
      [
        '',
        'Weft is running.',
        `  API       ${apiUrl}`,
        `  NATS      ${natsUrl}`,
        `  Workers   ${settings.workers}${settings.workers > 0 ? ` (${workers.map((worker) => worker.name).join(', ')})` : ''}`,
        `  Try       curl -s -X POST '${curlHost}/v1/jobs?wait=30' -H 'content-type: application/json' -d '{"task":"add","args":[4,6]}'`,
        `  Logs      tail -f ${path.join(shownLogs, '*.log')}`,
        `  Pids      ${stateFile}`,
        `  Stop      Ctrl-C, or kill -TERM ${process.pid}`,
        '',
        '',
      ].join('\n'),
    );
  }
}
