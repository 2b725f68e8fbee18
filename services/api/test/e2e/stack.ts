/**
 * End-to-end harness: runs the local stack the way the README does —
 * `node scripts/local-stack.mjs` on the build `npm test` has already made — in a
 * temporary home on free ports, and talks to it over real HTTP.
 *
 * Each stack is nats-server + the API + N workers as separate processes under the
 * supervisor, which restarts any child that dies; `<home>/stack.json` has their pids.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { JobView, JobView as Job, WorkerView as WorkerInfo } from '../../src/index.js';
import { freePorts } from '@weft/shared/testing';
import { jsonOf, type HttpResult } from './http.js';

export { jsonOf, postOversized, type HttpResult } from './http.js';
import { describeError, StopWaiting, waitFor } from './polling.js';

export { isAlive, StopWaiting, waitFor, type WaitForOptions } from './polling.js';

// ---------------------------------------------------------------------------
// What the API returns: the API's own response types.
export type { JobView as Job, Problem, ProblemIssue, WorkerView as WorkerInfo } from '../../src/index.js';
export type JobStatus = JobView['status'];
export type JobError = NonNullable<JobView['error']>;

/** `<home>/stack.json`, as the supervisor keeps it. */
export interface StackState {
  readonly supervisorPid: number;
  readonly home: string;
  readonly logsDir: string;
  readonly nats: { readonly pid: number | null; readonly url: string };
  readonly api: { readonly pid: number | null; readonly url: string };
  readonly workers: readonly { readonly name: string; readonly pid: number | null }[];
}

function findRepoRoot(): string {
  const start = path.dirname(fileURLToPath(import.meta.url));
  for (let dir = start; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'scripts', 'local-stack.mjs'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`scripts/local-stack.mjs not found above ${start}`);
  }
}

/** The monorepo root (where `scripts/local-stack.mjs` is). */
export const REPO_ROOT = findRepoRoot();
const SUPERVISOR_SCRIPT = path.join(REPO_ROOT, 'scripts', 'local-stack.mjs');

function tail(text: string, lines: number): string {
  return text.split('\n').slice(-lines).join('\n');
}

// ---------------------------------------------------------------------------
// The stack.

/** Options of {@link Stack.start}. */
export interface StackOptions {
  /** @default 2 */
  readonly workers?: number;
  /** Extra environment of the supervisor and its children (API and workers). */
  readonly env?: Readonly<Record<string, string>>;
  /** How long the stack may take to be ready (API ready, every worker heartbeating). @default 60000 */
  readonly readyTimeoutMs?: number;
}

/** How long a SIGTERMed supervisor may take to stop its children before it is killed. */
const STOP_TIMEOUT_MS = 45_000;
/** Start attempts when a port picked as free was taken in the meantime. */
const START_ATTEMPTS = 3;

/** A running local stack. */
export class Stack {
  /** Supervisor output (its children's output goes to `<home>/logs`). */
  private output = '';
  private exitCode: number | null | undefined;
  private stopping: Promise<void> | undefined;
  private readonly exited: Promise<void>;
  private readonly killOnExit = () => {
    // The test process is going away without having stopped the stack.
    if (this.exitCode === undefined) this.supervisor.kill('SIGTERM');
  };

  private constructor(
    readonly home: string,
    readonly apiUrl: string,
    readonly workerCount: number,
    private readonly supervisor: ChildProcess,
  ) {
    const collect = (chunk: Buffer) => {
      this.output = tail(this.output + chunk.toString('utf8'), 200);
    };
    supervisor.stdout?.on('data', collect);
    supervisor.stderr?.on('data', collect);
    this.exited = new Promise((resolve) => {
      supervisor.once('exit', (code) => {
        this.exitCode = code;
        resolve();
      });
    });
    process.once('exit', this.killOnExit);
  }

  /**
   * Starts `node scripts/local-stack.mjs --home <tmp> --api-port <free> --nats-port <free>
   * --workers N` and waits for `/readyz` and for N live workers.
   */
  static async start(options: StackOptions = {}): Promise<Stack> {
    let lastError: unknown;
    for (let attempt = 1; attempt <= START_ATTEMPTS; attempt++) {
      const stack = await Stack.launch(options);
      try {
        await stack.waitUntilReady(options.readyTimeoutMs ?? 60_000);
        await stack.waitForWorkers(options.readyTimeoutMs ?? 60_000);
        return stack;
      } catch (err) {
        lastError = err;
        const diagnostics = stack.diagnostics();
        // A port picked as free was taken before nats-server or the API bound it.
        const portTaken = /already in use|EADDRINUSE/.test(diagnostics);
        await stack.stop();
        if (!portTaken) throw new Error(`the local stack did not start: ${describeError(err)}\n${diagnostics}`);
      }
    }
    throw new Error(`the local stack did not start after ${START_ATTEMPTS} attempts: ${describeError(lastError)}`);
  }

  private static async launch(options: StackOptions): Promise<Stack> {
    const workers = options.workers ?? 2;
    const home = mkdtempSync(path.join(os.tmpdir(), 'weft-e2e-'));
    const [apiPort, natsPort] = (await freePorts(2)) as [number, number];
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      WEFT_API_HOST: '127.0.0.1',
      WEFT_LOG_STDOUT: '0',
      // A killed worker's items come back after 3 s instead of 30 s.
      WEFT_ACK_WAIT_MS: '3000',
      WEFT_HEARTBEAT_MS: '500',
      // Stopping the stack does not wait long for work left behind by a failed test.
      WEFT_DRAIN_TIMEOUT_MS: '5000',
      ...options.env,
    };
    // The children are not tests.
    delete env['NODE_TEST_CONTEXT'];
    const args = [
      SUPERVISOR_SCRIPT,
      '--home',
      home,
      '--api-port',
      String(apiPort),
      '--nats-port',
      String(natsPort),
      '--workers',
      String(workers),
    ];
    const supervisor = spawn(process.execPath, args, { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    return new Stack(home, `http://127.0.0.1:${apiPort}`, workers, supervisor);
  }

  /** Whether the supervisor is still running. */
  get running(): boolean {
    return this.exitCode === undefined;
  }

  /** The current `<home>/stack.json`. */
  state(): StackState {
    return JSON.parse(readFileSync(path.join(this.home, 'stack.json'), 'utf8')) as StackState;
  }

  /** Absolute URL of an API path (or of a relative `Location`). */
  url(pathOrLocation: string): string {
    return new URL(pathOrLocation, this.apiUrl).toString();
  }

  /** Sends a request and reads the whole response. */
  async request(
    method: string,
    pathname: string,
    init: { body?: string; contentType?: string; headers?: Record<string, string>; timeoutMs?: number } = {},
  ): Promise<HttpResult> {
    const headers: Record<string, string> = { ...init.headers };
    if (init.contentType !== undefined) headers['content-type'] = init.contentType;
    const response = await fetch(this.url(pathname), {
      method,
      headers,
      ...(init.body === undefined ? {} : { body: init.body }),
      signal: AbortSignal.timeout(init.timeoutMs ?? 60_000),
    });
    return { status: response.status, headers: response.headers, text: await response.text() };
  }

  /** `POST /v1/jobs<query>` with `spec` as JSON. */
  submit(spec: unknown, query = ''): Promise<HttpResult> {
    return this.request('POST', `/v1/jobs${query}`, { body: JSON.stringify(spec), contentType: 'application/json' });
  }

  /** Submits `spec` with `?wait=<waitSeconds>` and expects the finished job (200). */
  async run(spec: unknown, waitSeconds = 30): Promise<{ job: Job; response: HttpResult }> {
    const response = await this.submit(spec, `?wait=${waitSeconds}`);
    if (response.status !== 200) {
      throw new Error(`expected 200 for ${JSON.stringify(spec).slice(0, 200)}, got ${response.status}: ${response.text}`);
    }
    return { job: jsonOf<Job>(response), response };
  }

  /** `GET /v1/jobs/:id[?wait=N]`, expecting 200. */
  async getJob(id: string, waitSeconds?: number): Promise<Job> {
    const query = waitSeconds === undefined ? '' : `?wait=${waitSeconds}`;
    const response = await this.request('GET', `/v1/jobs/${id}${query}`);
    if (response.status !== 200) throw new Error(`GET /v1/jobs/${id}${query}: ${response.status} ${response.text}`);
    return jsonOf<Job>(response);
  }

  /** The live workers, from `GET /v1/workers`. */
  async workers(): Promise<WorkerInfo[]> {
    const response = await this.request('GET', '/v1/workers', { timeoutMs: 5000 });
    if (response.status !== 200) throw new Error(`GET /v1/workers: ${response.status} ${response.text}`);
    return jsonOf<{ workers: WorkerInfo[] }>(response).workers;
  }

  /** Waits until `GET /readyz` answers 200. */
  async waitUntilReady(timeoutMs = 60_000): Promise<void> {
    await waitFor(
      `GET ${this.apiUrl}/readyz to answer 200`,
      async () => {
        if (!this.running) throw new StopWaiting(`the supervisor exited with code ${String(this.exitCode)}`);
        const response = await this.request('GET', '/readyz', { timeoutMs: 2000 });
        return response.status === 200;
      },
      { timeoutMs, intervalMs: 100 },
    );
  }

  /**
   * Waits until `GET /v1/workers` lists exactly the worker processes of stack.json
   * (so a restarted worker is heartbeating and a killed one has gone stale).
   */
  async waitForWorkers(timeoutMs = 60_000): Promise<WorkerInfo[]> {
    return waitFor(
      `GET /v1/workers to list the ${this.workerCount} worker processes of stack.json`,
      async () => {
        if (!this.running) throw new StopWaiting(`the supervisor exited with code ${String(this.exitCode)}`);
        const expected = this.state()
          .workers.map((worker) => worker.pid)
          .sort();
        if (expected.length !== this.workerCount || expected.includes(null)) return undefined;
        const live = await this.workers();
        const pids = live.map((worker) => worker.pid).sort();
        return JSON.stringify(pids) === JSON.stringify(expected) ? live : undefined;
      },
      { timeoutMs, intervalMs: 100 },
    );
  }

  /** Sends SIGKILL to one process of the stack (a pid from stack.json). */
  kill(pid: number): void {
    process.kill(pid, 'SIGKILL');
  }

  /**
   * Stops the stack as a user would (SIGTERM to the supervisor, which stops the
   * workers, the API and nats-server in order) and removes its home. Idempotent.
   */
  stop(): Promise<void> {
    this.stopping ??= this.stopNow();
    return this.stopping;
  }

  private async stopNow(): Promise<void> {
    try {
      if (this.running) {
        this.supervisor.kill('SIGTERM');
        const timeout = new AbortController();
        const stopped = await Promise.race([
          this.exited.then(() => true),
          sleep(STOP_TIMEOUT_MS, false, { signal: timeout.signal }).catch(() => true),
        ]);
        // A pending timer would keep the test process alive.
        timeout.abort();
        if (!stopped) {
          // Kill what the supervisor did not stop, by pid, then the supervisor.
          process.stderr.write(`[e2e] the local stack in ${this.home} did not stop within ${STOP_TIMEOUT_MS} ms\n${this.diagnostics()}\n`);
          this.killChildren();
          this.supervisor.kill('SIGKILL');
          await this.exited;
        }
      }
    } finally {
      process.off('exit', this.killOnExit);
      rmSync(this.home, { recursive: true, force: true });
    }
  }

  private killChildren(): void {
    let state: StackState;
    try {
      state = this.state();
    } catch {
      return;
    }
    for (const pid of [state.api.pid, state.nats.pid, ...state.workers.map((worker) => worker.pid)]) {
      if (pid === null) continue;
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  }

  /** The supervisor's output and the end of every log, for failure reports. */
  diagnostics(): string {
    const parts = [`--- supervisor (${SUPERVISOR_SCRIPT}, home ${this.home})\n${tail(this.output, 40)}`];
    const logsDir = path.join(this.home, 'logs');
    try {
      for (const file of readdirSync(logsDir).sort()) {
        parts.push(`--- ${file}\n${tail(readFileSync(path.join(logsDir, file), 'utf8'), 30)}`);
      }
    } catch {
      // No logs (yet).
    }
    return parts.join('\n');
  }

  /** Runs `body`; when it fails, writes the stack's diagnostics to stderr before rethrowing. */
  async diagnose(body: () => Promise<void>): Promise<void> {
    try {
      await body();
    } catch (err) {
      process.stderr.write(`\n[e2e] test failed; local stack diagnostics:\n${this.diagnostics()}\n\n`);
      throw err;
    }
  }
}
