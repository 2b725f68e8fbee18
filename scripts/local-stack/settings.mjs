/** The local stack's settings: command-line flags over environment variables over defaults. */
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import os from 'node:os';
import { apiConfigFromEnv, workerConfigFromEnv } from '@weft/shared';
import { findNatsServerBinary } from '@weft/shared/testing';
import { fatal } from './output.mjs';

/** The repository's root directory. */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Beyond a worker's drain timeout (`WEFT_DRAIN_TIMEOUT_MS`), how long it may take to exit. */
export const WORKER_EXIT_MARGIN_MS = 5_000;

const USAGE = `Usage: node scripts/local-stack.mjs [--workers N] [--api-port N] [--nats-port N] [--home DIR]

Runs nats-server, the Weft API and N workers as local processes (see the
comment at the top of scripts/local-stack.mjs for the environment variables it reads).`;

/**
 * @typedef {object} Settings
 * @property {string} home
 * @property {string} volumeDir  the shared volume every process sees (`WEFT_DATA_ROOT`)
 * @property {number} natsPort
 * @property {string} natsUrl
 * @property {string} apiHost
 * @property {number} apiPort
 * @property {number} workers
 * @property {string} threadsPerWorker  `WEFT_THREADS` of each worker
 * @property {boolean} logToStdout
 * @property {string} natsBinary
 * @property {string} apiEntry
 * @property {string} workerEntry
 * @property {number} workerStopGraceMs  how long workers may take to exit after SIGTERM
 * @property {string | undefined} lifeline  util-linux's `setpriv`, which the children are
 *   started through so that they get SIGTERM when the supervisor dies; undefined when missing
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
export function parseSettings(argv, env) {
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

  if (flags.home === '') fatal('--home needs a directory');
  // Relative paths are the caller's: start.sh runs this from the directory it was run from.
  const home = path.resolve(flags.home ?? (env.WEFT_HOME || path.join(REPO_ROOT, '.weft')));
  const volumeDir = path.resolve(env.WEFT_DATA_ROOT || path.join(home, 'volume'));
  const natsPort = parseInteger('the NATS port', flags['nats-port'] ?? (env.WEFT_NATS_PORT || '4222'), 1, 65535);
  const natsUrl = `nats://127.0.0.1:${natsPort}`;
  const apiHost = env.WEFT_API_HOST || '127.0.0.1';
  const apiPort = parseInteger('the API port', flags['api-port'] ?? (env.WEFT_API_PORT || '8080'), 1, 65535);
  if (apiPort === natsPort) fatal(`the API and nats-server need a port each; both were given ${apiPort}`);
  const workers = parseInteger('the number of workers', flags.workers ?? (env.WEFT_WORKERS || '2'), 0, 64);
  // The workers share this machine's CPUs as pods share a node's: each gets its share
  // of threads (at least one) unless WEFT_THREADS says otherwise, so that the thread
  // pools together do not oversubscribe the CPUs.
  const threadsPerWorker = env.WEFT_THREADS || String(Math.max(1, Math.floor(os.availableParallelism() / Math.max(1, workers))));
  // The services' own settings are checked before anything starts: a service that
  // cannot read them would exit at once, and be restarted, again and again.
  const shared = { ...env, WEFT_NATS_URL: natsUrl, WEFT_DATA_ROOT: volumeDir };
  checkServiceSettings('the API', () => apiConfigFromEnv({ ...shared, WEFT_API_HOST: apiHost, WEFT_API_PORT: String(apiPort) }));
  const worker = checkServiceSettings('the workers', () => workerConfigFromEnv({ ...shared, WEFT_WORKER_NAME: 'worker-1', WEFT_THREADS: threadsPerWorker }));
  const logSetting = env.WEFT_LOG_STDOUT;
  /** @param {string | undefined} file @param {string} fallback */
  const entry = (file, fallback) => path.resolve(REPO_ROOT, file || fallback);
  return {
    home,
    volumeDir,
    natsPort,
    natsUrl,
    apiHost,
    apiPort,
    workers,
    threadsPerWorker,
    logToStdout: logSetting === undefined || logSetting === '' ? process.stdout.isTTY === true : logSetting !== '0',
    natsBinary: findNatsServer(),
    apiEntry: entry(env.WEFT_API_ENTRY, 'services/api/dist/src/server.js'),
    workerEntry: entry(env.WEFT_WORKER_ENTRY, 'services/worker/dist/src/main.js'),
    // Workers drain for as long as their own settings say.
    workerStopGraceMs: worker.drainTimeoutMs + WORKER_EXIT_MARGIN_MS,
    lifeline: findLifeline(env.PATH),
  };
}

/**
 * Resolves a service's settings as it will, or exits saying why it could not.
 * @template T
 * @param {string} who
 * @param {() => T} resolve
 * @returns {T}
 */
function checkServiceSettings(who, resolve) {
  try {
    return resolve();
  } catch (err) {
    return fatal(`${who} cannot start: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/**
 * util-linux's `setpriv`, if it is there and can set a parent-death signal (util-linux
 * 2.33 or later; busybox's cannot): undefined otherwise.
 * @param {string | undefined} searchPath
 */
function findLifeline(searchPath) {
  const setpriv = findExecutable('setpriv', searchPath);
  if (setpriv === undefined) return undefined;
  const probe = spawnSync(setpriv, ['--pdeathsig', 'TERM', '--', process.execPath, '-e', ''], { stdio: 'ignore', timeout: 5000 });
  return probe.status === 0 ? setpriv : undefined;
}

/**
 * The first executable `name` on `searchPath` (then /usr/bin, /bin); undefined when none.
 * @param {string} name
 * @param {string | undefined} searchPath
 */
function findExecutable(name, searchPath) {
  for (const dir of [...(searchPath ?? '').split(path.delimiter), '/usr/bin', '/bin']) {
    if (dir === '') continue;
    const file = path.join(dir, name);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // Not here.
    }
  }
  return undefined;
}

