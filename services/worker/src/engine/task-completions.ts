/**
 * Task completions as job events carry them: small values inline, large ones left out.
 */
import { decodeWireBytes, WireBytes, type PlanTask, type TaskCompletion } from '@weft/shared';
import type { TaskOutcome } from '../execution/task-runner.js';

/** Largest task value copied into events, in bytes of JSON (roughly). */
const EVENT_VALUE_MAX_CHARS = 1024;

/** The event form of a task that succeeded. */
export function completion(node: Pick<PlanTask, 'task' | 'pointer' | 'label'>, outcome: TaskOutcome & { ok: true }): TaskCompletion {
  // A value of many entries comes encoded from its thread, yet may be short.
  const value = outcome.value instanceof WireBytes && outcome.value.bytes.byteLength <= EVENT_VALUE_MAX_CHARS
    ? decodeWireBytes(outcome.value.bytes)
    : outcome.value;
  const small = isSmall(value);
  return {
    node: node.pointer,
    task: node.task,
    attempts: outcome.attempts,
    durationMs: Math.round(outcome.durationMs * 1000) / 1000,
    ...(node.label === undefined ? {} : { label: node.label }),
    ...(small ? { value } : {}),
  };
}

function isSmall(value: unknown): boolean {
  if (value instanceof WireBytes) return false;
  if (value === null || typeof value !== 'object') return typeof value !== 'string' || value.length <= EVENT_VALUE_MAX_CHARS;
  // Each entry takes at least two characters of JSON: a large structure is not small,
  // and is not encoded just to find that out.
  if (entryCount(value) * 2 > EVENT_VALUE_MAX_CHARS) return false;
  try {
    return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)).length <= EVENT_VALUE_MAX_CHARS;
  } catch {
    return false;
  }
}

/** Entries of an array or object, counting nested ones, up to a bound. */
function entryCount(value: object, limit = EVENT_VALUE_MAX_CHARS): number {
  let count = 0;
  const visit = (entry: unknown): boolean => {
    count += 1;
    if (typeof entry === 'object' && entry !== null) count += entryCount(entry, limit - count);
    return count > limit;
  };
  if (Array.isArray(value)) {
    for (const entry of value as unknown[]) if (visit(entry)) break;
  } else {
    for (const key in value) if (visit((value as Record<string, unknown>)[key])) break;
  }
  return count;
}
