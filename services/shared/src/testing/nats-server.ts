/**
 * Launches a real `nats-server` process with JetStream for tests and benchmarks.
 *
 * The server listens on 127.0.0.1 only, on a port it picks itself unless one is
 * given, and keeps its JetStream state in a temporary directory that `stop()`
 * removes again. Readiness and the actual port are read from the server's log
 * output, which every release since 2.2 (including Debian's 2.9.10) prints as
 * `Listening for client connections on HOST:PORT` followed by `Server is ready`.
 *
 * Servers never outlive the process that started them: they are killed (and
 * their temporary store directories removed) on the process' `exit` event, and
 * a tiny watchdog shell does the same when the process dies without one
 * (SIGKILL, a fatal signal, an out-of-memory kill).
 */
import { spawn, type ChildProcess, type ChildProcessByStdio } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { findNatsServerBinary } from './nats-server-binary.js';

/** Options of {@link startNatsServer}. */
export interface NatsServerOptions {
  /**
   * JetStream store directory. When given it is kept by `stop()`; when omitted a
   * fresh `weft-nats-*` directory is created under the OS temp directory and
   * removed by `stop()`.
   */
  storeDir?: string;
  /** Client port. Default: a free port chosen by the server itself (`-p -1`). */
  port?: number;
  /** Extra command-line arguments appended after Weft's own. */
  args?: string[];
  /** Path of the `nats-server` binary. Default: {@link findNatsServerBinary}. */
  binary?: string;
}

/** A `nats-server` process started by {@link startNatsServer}. */
export interface RunningNatsServer {
  /** Client URL, e.g. `nats://127.0.0.1:41234`. Stays the same across restarts. */
  readonly url: string;
  /** Client port the server listens on. Stays the same across restarts. */
  readonly port: number;
  /** JetStream store directory. */
  readonly storeDir: string;
  /** Process id of the most recent server process (changes on restart). */
  readonly pid: number;
  /** Recent log output of the server (all of its runs, most recent last). */
  log(): string;
  /**
   * Stops the server gracefully: SIGTERM, then SIGKILL if it has not exited
   * after 5 s. Removes the store directory if `startNatsServer` created it.
   * Idempotent; the server cannot be restarted afterwards.
   */
  stop(): Promise<void>;
  /** Kills the server with SIGKILL and waits for it to exit. Keeps the store directory. */
  kill(): Promise<void>;
  /**
   * Starts the server again on the same port and store directory, so JetStream
   * state survives. A server that is still running is stopped gracefully first.
   */
  restart(): Promise<void>;
}

/** How long a server may take to report that it is ready. */
const READY_TIMEOUT_MS = 10_000;
/** How long `stop()` waits after SIGTERM before it sends SIGKILL. */
const STOP_GRACE_MS = 5_000;
/** How much log output is kept per server. */
const MAX_LOG_CHARS = 256 * 1024;

const LISTENING_PATTERN = /Listening for client connections on (\S+):(\d+)/;
const READY_PATTERN = /Server is ready/;

// ---------------------------------------------------------------------------
// Clean-up of servers when the process that started them goes away.

const liveServers = new Set<ChildProcess>();
/** Temporary store directories created here and not yet removed by `stop()`. */
const temporaryStoreDirs = new Set<string>();
let exitHookInstalled = false;

function cleanUpOnExit(): void {
  for (const child of liveServers) {
    try {
      child.kill('SIGKILL');
    } catch {
      // Already gone.
    }
  }
  liveServers.clear();
  for (const dir of temporaryStoreDirs) {
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // Best effort: it is a temporary directory.
    }
  }
  temporaryStoreDirs.clear();
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', cleanUpOnExit);
}

/**
 * Starts a watchdog shell that SIGKILLs `pid` (and removes `dir`, if given) as
 * soon as its stdin reaches end of file without having read a line first. Its
 * stdin is a pipe only this process holds, so that happens exactly when this
 * process dies, however it dies. Writing a line (see {@link dismissWatchdog})
 * lets it exit quietly.
 */
function startWatchdog(pid: number, dir: string | undefined): ChildProcessByStdio<Writable, null, null> | undefined {
  const script = 'if read -r _; then exit 0; fi; kill -9 "$1" 2>/dev/null; if [ -n "$2" ]; then rm -rf -- "$2"; fi';
  try {
    const watchdog = spawn('/bin/sh', ['-c', script, 'weft-nats-watchdog', String(pid), dir ?? ''], {
      stdio: ['pipe', 'ignore', 'ignore'],
      detached: true,
    });
    watchdog.on('error', () => {
      // No /bin/sh: the process 'exit' hook still covers ordinary exits.
    });
    watchdog.stdin.on('error', () => {
      // The watchdog is gone already; nothing to dismiss.
    });
    watchdog.unref();
    unrefStream(watchdog.stdin);
    return watchdog;
  } catch {
    return undefined;
  }
}

function dismissWatchdog(watchdog: ChildProcessByStdio<Writable, null, null> | undefined): void {
  if (watchdog === undefined || watchdog.stdin.destroyed) return;
  watchdog.stdin.end('done\n');
}

/** Pipes of a child process are sockets; unref them so they do not keep the event loop alive. */
function unrefStream(stream: Readable | Writable): void {
  const socket = stream as unknown as { unref?: () => void };
  if (typeof socket.unref === 'function') socket.unref();
}

// ---------------------------------------------------------------------------

function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

function waitForExit(child: ChildProcess): Promise<void> {
  if (hasExited(child)) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** One run of the server process. */
interface ServerProcess {
  child: ChildProcessByStdio<null, Readable, Readable>;
  watchdog: ChildProcessByStdio<Writable, null, null> | undefined;
  host: string;
  port: number;
}

class NatsServer implements RunningNatsServer {
  readonly #binary: string;
  readonly #extraArgs: readonly string[];
  readonly #storeDir: string;
  readonly #ownsStoreDir: boolean;
  #requestedPort: number;
  #current: ServerProcess | undefined;
  #url = '';
  #port = 0;
  #pid = 0;
  #log = '';
  #stopped = false;
  /** Serialises start, stop, kill and restart. */
  #queue: Promise<unknown> = Promise.resolve();

  constructor(binary: string, storeDir: string, ownsStoreDir: boolean, port: number, extraArgs: readonly string[]) {
    this.#binary = binary;
    this.#storeDir = storeDir;
    this.#ownsStoreDir = ownsStoreDir;
    this.#requestedPort = port;
    this.#extraArgs = extraArgs;
  }

  get url(): string {
    return this.#url;
  }

  get port(): number {
    return this.#port;
  }

  get storeDir(): string {
    return this.#storeDir;
  }

  get pid(): number {
    return this.#pid;
  }

  log(): string {
    return this.#log;
  }

  stop(): Promise<void> {
    return this.#serialise(async () => {
      if (this.#stopped) return;
      this.#stopped = true;
      await this.#terminate('SIGTERM');
      if (this.#ownsStoreDir) {
        await rm(this.#storeDir, { recursive: true, force: true });
        temporaryStoreDirs.delete(this.#storeDir);
      }
    });
  }

  kill(): Promise<void> {
    return this.#serialise(() => this.#terminate('SIGKILL'));
  }

  restart(): Promise<void> {
    return this.#serialise(async () => {
      if (this.#stopped) throw new Error('nats-server was stopped with stop(); it cannot be restarted');
      await this.#terminate('SIGTERM');
      await this.#launch();
    });
  }

  /** First start; used by {@link startNatsServer} only. */
  start(): Promise<void> {
    return this.#serialise(() => this.#launch());
  }

  #serialise<T>(operation: () => Promise<T>): Promise<T> {
    const result = this.#queue.then(operation);
    this.#queue = result.catch(() => undefined);
    return result;
  }

  #appendLog(text: string): void {
    this.#log += text;
    if (this.#log.length > MAX_LOG_CHARS) this.#log = this.#log.slice(this.#log.length - MAX_LOG_CHARS);
  }

  async #launch(): Promise<void> {
    const args = [
      '-js',
      '-sd',
      this.#storeDir,
      '-a',
      '127.0.0.1',
      '-p',
      String(this.#requestedPort),
      ...this.#extraArgs,
    ];
    const child = spawn(this.#binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const server: ServerProcess = { child, watchdog: undefined, host: '127.0.0.1', port: 0 };
    if (child.pid !== undefined) {
      installExitHook();
      liveServers.add(child);
      server.watchdog = startWatchdog(child.pid, this.#ownsStoreDir ? this.#storeDir : undefined);
    }
    child.once('exit', () => {
      liveServers.delete(child);
      dismissWatchdog(server.watchdog);
    });

    try {
      await this.#waitUntilReady(server, args);
    } catch (err) {
      // A process that could not be spawned at all has no pid and may never emit 'exit'.
      if (child.pid !== undefined) {
        child.kill('SIGKILL');
        await waitForExit(child);
      }
      throw err;
    }

    // Ready: from now on the server must not keep the event loop alive by itself,
    // so that a test that forgets stop() still ends (the exit hook kills it then).
    child.unref();
    unrefStream(child.stdout);
    unrefStream(child.stderr);
    this.#current = server;
    this.#pid = child.pid ?? 0;
    this.#port = server.port;
    this.#requestedPort = server.port;
    const host = server.host === '0.0.0.0' ? '127.0.0.1' : server.host;
    this.#url = `nats://${host}:${server.port}`;
  }

  #waitUntilReady(server: ServerProcess, args: readonly string[]): Promise<void> {
    const { child } = server;
    const commandLine = [this.#binary, ...args].join(' ');
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      let pending = '';
      const fail = (reason: string): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        const output = this.#log.trimEnd();
        reject(new Error(`nats-server ${reason}\ncommand: ${commandLine}\n--- server output ---\n${output === '' ? '(none)' : output}`));
      };
      const onData = (chunk: Buffer): void => {
        const text = chunk.toString('utf8');
        this.#appendLog(text);
        if (settled) return;
        pending += text;
        const lines = pending.split('\n');
        pending = lines.pop() ?? '';
        for (const line of lines) {
          const listening = LISTENING_PATTERN.exec(line);
          if (listening?.[1] !== undefined && listening[2] !== undefined) {
            server.host = listening[1];
            server.port = Number(listening[2]);
          }
          if (READY_PATTERN.test(line)) {
            if (server.port === 0) {
              fail('reported it was ready but not which port it listens on');
              return;
            }
            settled = true;
            clearTimeout(timer);
            resolve();
            return;
          }
        }
      };
      // nats-server logs to stderr; read stdout too in case a configuration sends it there.
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      child.once('error', (err) => fail(`could not be started: ${err.message}`));
      // 'close' rather than 'exit': it comes after the last output, which explains the exit.
      child.once('close', (code: number | null, signal: NodeJS.Signals | null) =>
        fail(`exited before it was ready (${signal === null ? `exit code ${String(code)}` : `signal ${signal}`})`),
      );
      const timer = setTimeout(() => fail(`was not ready within ${READY_TIMEOUT_MS / 1000} s`), READY_TIMEOUT_MS);
    });
  }

  /** Ends the current server process, if any, and waits until it has exited. */
  async #terminate(signal: 'SIGTERM' | 'SIGKILL'): Promise<void> {
    const server = this.#current;
    if (server === undefined) return;
    this.#current = undefined;
    const { child } = server;
    if (hasExited(child)) return;
    // Keep the event loop alive while waiting for the exit.
    child.ref();
    const exited = waitForExit(child);
    child.kill(signal);
    if (signal === 'SIGTERM') {
      let timer: NodeJS.Timeout | undefined;
      const timedOut = await Promise.race([
        exited.then(() => false),
        new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(true), STOP_GRACE_MS);
        }),
      ]);
      clearTimeout(timer);
      if (timedOut) child.kill('SIGKILL');
    }
    await exited;
  }
}

/**
 * Starts `nats-server -js -sd <storeDir> -a 127.0.0.1 -p <port>` and resolves
 * once it accepts client connections.
 *
 * @throws Error with the server's output if it exits early or is not ready within 10 s.
 */
export async function startNatsServer(opts: NatsServerOptions = {}): Promise<RunningNatsServer> {
  const binary = opts.binary ?? findNatsServerBinary();
  const ownsStoreDir = opts.storeDir === undefined;
  const storeDir = opts.storeDir ?? (await mkdtemp(join(tmpdir(), 'weft-nats-')));
  if (ownsStoreDir) {
    installExitHook();
    temporaryStoreDirs.add(storeDir);
  }
  const server = new NatsServer(binary, storeDir, ownsStoreDir, opts.port ?? -1, opts.args ?? []);
  try {
    await server.start();
  } catch (err) {
    if (ownsStoreDir) {
      await rm(storeDir, { recursive: true, force: true });
      temporaryStoreDirs.delete(storeDir);
    }
    throw err;
  }
  return server;
}
