/**
 * One supervisor per home: two would share one JetStream data directory, which
 * nats-server 2.9 does not lock, and lose each other's data.
 *
 * The lock is `<home>/stack.lock`, holding the owner's pid, the kernel's boot id and
 * the process's start time in clock ticks since boot (neither moves with the wall
 * clock). It appears with its content at once (written aside, then hard-linked into
 * place). A lock whose owner is gone, or whose pid now names another process (a pid
 * reused after a reboot or a SIGKILL), is moved aside and taken over.
 */
import { linkSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import process from 'node:process';
import { bootId, isAlive, startTicks } from './leftovers.mjs';

/**
 * @typedef {object} HomeLock
 * @property {() => boolean} held whether the lock still names this process
 * @property {() => void} release removes the lock if it still names this process
 */

/**
 * @typedef {object} LockOwner
 * @property {string} text the lock's content
 * @property {number} pid
 * @property {string | null} bootId
 * @property {number | null} startTicks
 */

/**
 * Takes the home's lock, or says who holds it (`ownerPid` undefined when that is not known).
 * @param {string} home
 * @returns {{ ok: true, lock: HomeLock } | { ok: false, ownerPid: number | undefined }}
 */
export function lockHome(home) {
  const file = path.join(home, 'stack.lock');
  const mine = JSON.stringify({ pid: process.pid, bootId: bootId() ?? null, startTicks: startTicks(process.pid) ?? null });
  const held = () => readOwner(file)?.text === mine;
  const aside = `${file}.${process.pid}`;
  // Two tries: the second after moving a stale lock aside.
  for (let attempt = 0; attempt < 2; attempt++) {
    writeFileSync(aside, mine);
    try {
      linkSync(aside, file);
      return { ok: true, lock: { held, release: () => (held() ? rmSync(file, { force: true }) : undefined) } };
    } catch (err) {
      if (/** @type {NodeJS.ErrnoException} */ (err).code !== 'EEXIST') throw err;
    } finally {
      rmSync(aside, { force: true });
    }
    const owner = readOwner(file);
    if (owner !== undefined && owner.pid !== process.pid && isOwner(owner)) return { ok: false, ownerPid: owner.pid };
    if (!moveStaleAside(file, owner?.text, aside)) break;
  }
  const owner = readOwner(file);
  return { ok: false, ownerPid: owner?.pid };
}

/**
 * Moves the lock aside and removes it, if it still holds `staleText`.
 * @param {string} file
 * @param {string | undefined} staleText the content judged stale (undefined: unreadable)
 * @param {string} aside
 * @returns {boolean} false when another supervisor took the lock meanwhile
 */
function moveStaleAside(file, staleText, aside) {
  try {
    renameSync(file, aside);
  } catch (err) {
    if (/** @type {NodeJS.ErrnoException} */ (err).code === 'ENOENT') return true;
    throw err;
  }
  const moved = readOwner(aside);
  if (moved === undefined || moved.text === staleText) {
    rmSync(aside, { force: true });
    return true;
  }
  // A live supervisor's fresh lock, made since it was read: put it back.
  try {
    linkSync(aside, file);
  } catch {
    // Taken by yet another one; that one goes on.
  }
  rmSync(aside, { force: true });
  return false;
}

/**
 * @param {string} file
 * @returns {LockOwner | undefined}
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
    if (typeof parsed?.pid === 'number' && parsed.pid > 0) {
      return {
        text,
        pid: parsed.pid,
        bootId: typeof parsed.bootId === 'string' ? parsed.bootId : null,
        startTicks: typeof parsed.startTicks === 'number' ? parsed.startTicks : null,
      };
    }
  } catch {
    // Not a lock this supervisor wrote: stale.
  }
  return undefined;
}

/**
 * Whether the lock's owner still runs: its pid is alive, since the same boot, and
 * started at the same tick (when those are known; else an alive pid counts).
 * @param {LockOwner} owner
 */
function isOwner(owner) {
  if (!isAlive(owner.pid)) return false;
  const boot = bootId();
  if (owner.bootId !== null && boot !== undefined && owner.bootId !== boot) return false;
  const ticks = startTicks(owner.pid);
  return owner.startTicks === null || ticks === undefined || ticks === owner.startTicks;
}
