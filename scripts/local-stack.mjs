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
 * processes so that tests and tools can find (and kill) them, and holds
 * $WEFT_HOME/stack.lock while it runs: one stack per home. Its children are started
 * through `setpriv --pdeathsig TERM` when util-linux has it, so that they stop if
 * the supervisor is killed.
 */
import { mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import process from 'node:process';
import { setTimeout as sleep } from 'node:timers/promises';
import { Child } from './local-stack/child.mjs';
import { lockHome } from './local-stack/home-lock.mjs';
import { stopLeftovers } from './local-stack/leftovers.mjs';
import { assertPortFree, canConnect, connectHost, hostPort, httpJson, httpStatus } from './local-stack/network.mjs';
import { fatal, say, warn } from './local-stack/output.mjs';
import { parseSettings, REPO_ROOT } from './local-stack/settings.mjs';

const NATS_READY_TIMEOUT_MS = 15_000;
const API_READY_TIMEOUT_MS = 30_000;
const WORKERS_READY_TIMEOUT_MS = 30_000;
/** Heartbeat times and the supervisor's clock come from one machine; allow for rounding. */
const CLOCK_SLACK_MS = 1_000;
const API_STOP_GRACE_MS = 10_000;
const NATS_STOP_GRACE_MS = 10_000;
/** Lines of a child's output shown when it keeps the stack from starting. */
const SHOWN_OUTPUT_LINES = 12;
/**
 * `npm start` forwards the SIGINT of a Ctrl-C to us although the terminal already
 * sent it: a second SIGINT this soon after the first is the same keypress.
 */
const DUPLICATE_SIGNAL_WINDOW_MS = 1_000;

const settings = parseSettings(process.argv.slice(2), process.env);
const dataDir = path.join(settings.home, 'data');
const logsDir = path.join(settings.home, 'logs');
// Every process sees the same shared volume, as pods mounting one claim would.
const { volumeDir, natsUrl } = settings;
const stateFile = path.join(settings.home, 'stack.json');
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

for (const dir of [dataDir, logsDir, volumeDir]) {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (err) {
    fatal(`cannot create ${dir}: ${/** @type {Error} */ (err).message}`);
  }
}

const locked = lockHome(settings.home);
if (!locked.ok) {
  const { ownerPid } = locked;
  fatal(
    ownerPid === undefined
      ? `another local stack is starting from ${settings.home} at the same moment`
      : `a local stack is already running from ${settings.home} (supervisor pid ${ownerPid}); stop it first (kill -TERM ${ownerPid})`,
  );
}
const homeLock = locked.lock;
process.on('exit', () => homeLock.release());

// A supervisor that died (SIGKILL) may have left children holding the ports and data.
try {
  const previous = JSON.parse(readFileSync(stateFile, 'utf8'));
  await stopLeftovers(settings.home, previous, statSync(stateFile).mtimeMs, settings.workerStopGraceMs);
} catch (err) {
  if (/** @type {NodeJS.ErrnoException} */ (err).code !== 'ENOENT' && !(err instanceof SyntaxError)) throw err;
}

await assertPortFree(
  '127.0.0.1',
  settings.natsPort,
  'Is another nats-server running? (Debian\'s package starts one on 4222: `sudo systemctl disable --now nats-server`.) Or pick another port with --nats-port N.',
);
await assertPortFree(settings.apiHost, settings.apiPort, 'Pick another port with --api-port N.');
// Both of two supervisors started at the same moment may have found a stale lock and
// replaced it: only the one whose lock is on disk goes on.
if (!homeLock.held()) fatal(`another local stack started from ${settings.home} at the same moment`);

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
    cwd: REPO_ROOT,
    env: { ...process.env, WEFT_DATA_ROOT: volumeDir, ...extraEnv },
    logFile: path.join(logsDir, `${name}.log`),
    logToStdout: settings.logToStdout,
    onPidChange: writeState,
    ...(settings.lifeline ? { lifeline: settings.lifeline } : {}),
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
/** @type {Child[]} */
const workers = [];
for (let i = 1; i <= settings.workers; i++) {
  const name = `worker-${i}`;
  workers.push(
    makeChild(name, process.execPath, [settings.workerEntry], { WEFT_NATS_URL: natsUrl, WEFT_WORKER_NAME: name, WEFT_THREADS: settings.threadsPerWorker }),
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
  const output = culprit.recent.length > 0 ? culprit.recent.slice(-SHOWN_OUTPUT_LINES).map((line) => `  ${line}`).join('\n') : '  (no output)';
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

/**
 * Waits until GET /readyz answers 200.
 * @returns {Promise<'ready' | 'exited' | 'timeout'>}
 */
async function waitForApi() {
  const deadline = Date.now() + API_READY_TIMEOUT_MS;
  while (Date.now() < deadline && !shuttingDown) {
    if (!api.running) return 'exited';
    if ((await httpStatus(`${apiUrl}/readyz`)) === 200) return 'ready';
    await sleep(250);
  }
  return 'timeout';
}

/**
 * Waits until GET /v1/workers lists every worker (by name, with a heartbeat that
 * began after the worker was started: not a previous run's).
 * @returns {Promise<{ worker: Child, exited: boolean } | undefined>} the worker that exited, or was not listed in time
 */
async function waitForWorkers() {
  const deadline = Date.now() + WORKERS_READY_TIMEOUT_MS;
  /** Workers seen ready: restarted as usual from then on. */
  const ready = new Set();
  while (!shuttingDown) {
    const exited = workers.find((worker) => !ready.has(worker) && !worker.running);
    if (exited) return { worker: exited, exited: true };
    const listed = /** @type {{ workers?: { name?: unknown, startedAt?: unknown }[] } | undefined} */ (await httpJson(`${apiUrl}/v1/workers`));
    for (const worker of workers) {
      const live = (listed?.workers ?? []).some(
        (entry) => entry.name === worker.name && Date.parse(String(entry.startedAt)) >= worker.startedAt - CLOCK_SLACK_MS,
      );
      if (live && !ready.has(worker)) {
        ready.add(worker);
        worker.autoRestart = true;
      }
    }
    const missing = workers.find((worker) => !ready.has(worker));
    if (!missing) return undefined;
    if (Date.now() > deadline) return { worker: missing, exited: false };
    await sleep(250);
  }
  return undefined;
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

  // Nor are the API and the workers: an exit before they are ready is a setting or
  // an environment they cannot run with, which a restart would only repeat.
  for (const child of [api, ...workers]) {
    child.autoRestart = false;
    child.start();
  }
  const apiState = await waitForApi();
  api.autoRestart = true;
  const lateWorker = apiState === 'ready' ? await waitForWorkers() : undefined;
  for (const worker of workers) worker.autoRestart = true;
  if (apiState !== 'ready') {
    await failStartup(
      apiState === 'exited' ? 'the API exited before it was ready' : `the API did not answer GET ${apiUrl}/readyz with 200 within ${API_READY_TIMEOUT_MS / 1000} s`,
      api,
    );
  } else if (lateWorker) {
    await failStartup(
      lateWorker.exited
        ? `${lateWorker.worker.name} exited before it was ready`
        : `${lateWorker.worker.name} did not show up in GET ${apiUrl}/v1/workers within ${WORKERS_READY_TIMEOUT_MS / 1000} s`,
      lateWorker.worker,
    );
  } else if (!shuttingDown) {
    if (settings.workers === 0) warn('no workers: jobs wait in their queues until workers pull them (--workers N)');
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
