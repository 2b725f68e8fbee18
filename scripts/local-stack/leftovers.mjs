/** Processes of the stack by pid: what a supervisor that died left running. Linux only (it reads /proc). */
import { readFileSync } from 'node:fs';
import process from 'node:process';
import { setTimeout as sleep } from 'node:timers/promises';
import { warn } from './output.mjs';

/**
 * Stops what a supervisor that died (SIGKILL, out of memory) left running, as its
 * stack.json names it: its children would keep the ports and the data directory. A
 * pid counts only if its process started before that file was last written (a pid
 * used again since is another process). Linux only (it reads /proc).
 * @param {string} home the stack's home directory
 * @param {any} previous the dead supervisor's stack.json
 * @param {number} writtenAtMs when that file was last written
 * @param {number} graceMs how long they may take to exit after SIGTERM (then SIGKILL)
 */
export async function stopLeftovers(home, previous, writtenAtMs, graceMs) {
  const pids = [previous?.nats?.pid, previous?.api?.pid, ...(Array.isArray(previous?.workers) ? previous.workers.map((/** @type {any} */ w) => w?.pid) : [])];
  const left = pids.filter((pid) => typeof pid === 'number' && pid > 1 && isAlive(pid) && (startedAtMs(pid) ?? Infinity) <= writtenAtMs + 1000);
  if (left.length === 0) return;
  warn(`the last supervisor of ${home} died and left ${left.length} of its processes running (pids ${left.join(', ')}); stopping them`);
  for (const pid of left) signalPid(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (left.some(isAlive) && Date.now() < deadline) await sleep(100);
  for (const pid of left.filter(isAlive)) signalPid(pid, 'SIGKILL');
  while (left.some(isAlive)) await sleep(50);
}

/**
 * When process `pid` started, in clock ticks since boot (field 22 of /proc/<pid>/stat,
 * which the wall clock does not move); undefined when unknown.
 * @param {number} pid
 */
export function startTicks(pid) {
  try {
    // Fields after the parenthesised name, which may itself hold spaces.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const ticks = Number(stat.slice(stat.lastIndexOf(') ') + 2).split(' ')[19]);
    return Number.isFinite(ticks) ? ticks : undefined;
  } catch {
    return undefined;
  }
}

/** The kernel's id of the current boot; undefined when unknown. */
export function bootId() {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** When process `pid` started, in ms since the epoch; undefined when unknown. @param {number} pid */
function startedAtMs(pid) {
  const ticks = startTicks(pid);
  try {
    const bootSeconds = Number(/^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'))?.[1]);
    return ticks !== undefined && Number.isFinite(bootSeconds) ? bootSeconds * 1000 + (ticks / CLOCK_TICKS_PER_SECOND) * 1000 : undefined;
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
export function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return /** @type {NodeJS.ErrnoException} */ (err).code === 'EPERM';
  }
}
