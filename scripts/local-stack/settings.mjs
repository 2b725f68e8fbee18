/** The local stack's settings: command-line flags over environment variables over defaults. */
import path from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import { workerConfigFromEnv } from '@weft/shared';
import { findNatsServerBinary } from '@weft/shared/testing';
import { fatal, warn } from './output.mjs';

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
 * @property {number} natsPort
 * @property {string} apiHost
 * @property {number} apiPort
 * @property {number} workers
 * @property {boolean} logToStdout
 * @property {string} natsBinary
 * @property {string} apiEntry
 * @property {string} workerEntry
 * @property {number} workerStopGraceMs  how long workers may take to exit after SIGTERM
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
export function workerDrainTimeoutMs(env) {
  try {
    return workerConfigFromEnv(env).drainTimeoutMs;
  } catch (err) {
    // The workers will not start either, and will say why.
    warn(`cannot read the workers' settings: ${err instanceof Error ? err.message : String(err)}`);
    return 0;
  }
}
