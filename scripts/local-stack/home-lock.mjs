/**
 * One supervisor per home: two would share one JetStream data directory, which
 * nats-server 2.9 does not lock, and lose each other's data.
 *
 * The lock is `<home>/stack.lock`, created exclusively and holding the owner's pid
 * and start time. A lock whose owner is gone, or whose pid now names a process that
 * started at another time (a pid reused after a reboot or a SIGKILL), is taken over.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import process from 'node:process';
import { isAlive, startedAtMs } from './leftovers.mjs';

/** Start times read twice from /proc may differ by a clock tick or so. */
const SAME_START_TOLERANCE_MS = 50;

/**
 * @typedef {object} HomeLock
 * @property {() => boolean} held whether the lock still names this process
 * @property {() => void} release removes the lock if it still names this process
 */

/**
 * Takes the home's lock, or explains who holds it.
 * @param {string} home
 * @returns {{ ok: true, lock: HomeLock } | { ok: false, ownerPid: number }}
 */
export function lockHome(home) {
  const file = path.join(home, 'stack.lock');
  const mine = JSON.stringify({ pid: process.pid, startedAtMs: startedAtMs(process.pid) ?? null });
  const held = () => readOwner(file)?.text === mine;
  // Two tries: the second after removing a stale lock.
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(file, mine, { flag: 'wx' });
      return { ok: true, lock: { held, release: () => (held() ? rmSync(file, { force: true }) : undefined) } };
    } catch (err) {
      if (/** @type {NodeJS.ErrnoException} */ (err).code !== 'EEXIST') throw err;
    }
    const owner = readOwner(file);
    if (owner !== undefined && owner.pid !== process.pid && runsSince(owner.pid, owner.startedAtMs)) return { ok: false, ownerPid: owner.pid };
    rmSync(file, { force: true });
  }
  // A lock made again between removing and creating: another supervisor started just now.
  const owner = readOwner(file);
  return { ok: false, ownerPid: owner?.pid ?? 0 };
}

/**
 * @param {string} file
 * @returns {{ text: string, pid: number, startedAtMs: number | null } | undefined}
 */
function readOwner(file) {
  let text;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const parsed = JSON.parse(text);
    if (typeof parsed?.pid === 'number') return { text, pid: parsed.pid, startedAtMs: typeof parsed.startedAtMs === 'number' ? parsed.startedAtMs : null };
  } catch {
    // A lock cut short by a crash while it was written: stale.
  }
  return undefined;
}

/**
 * Whether process `pid` is alive and is the one that started at `startedAt` (when known).
 * @param {number} pid
 * @param {number | null} startedAt
 */
function runsSince(pid, startedAt) {
  if (!isAlive(pid)) return false;
  if (startedAt === null) return true;
  const now = startedAtMs(pid);
  return now === undefined || Math.abs(now - startedAt) <= SAME_START_TOLERANCE_MS;
}
