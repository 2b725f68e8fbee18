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
import { mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import process from 'node:process';
import { setTimeout as sleep } from 'node:timers/promises';
import { Child } from './local-stack/child.mjs';
import { stopLeftovers, isAlive } from './local-stack/leftovers.mjs';
import { assertPortFree, canConnect, connectHost, hostPort, httpStatus } from './local-stack/network.mjs';
import { fatal, say, warn } from './local-stack/output.mjs';
import { parseSettings, REPO_ROOT } from './local-stack/settings.mjs';

const NATS_READY_TIMEOUT_MS = 15_000;
const API_READY_TIMEOUT_MS = 30_000;
const API_STOP_GRACE_MS = 10_000;
const NATS_STOP_GRACE_MS = 10_000;
/**
 * `npm start` forwards the SIGINT of a Ctrl-C to us although the terminal already
 * sent it: a second SIGINT this soon after the first is the same keypress.
 */
const DUPLICATE_SIGNAL_WINDOW_MS = 1_000;

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
  await stopLeftovers(settings.home, previous, statSync(stateFile).mtimeMs);
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
    cwd: REPO_ROOT,
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
