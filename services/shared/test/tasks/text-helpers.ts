/**
 * Running the text tasks like the engine does: one map task per line-aligned split,
 * then an ordered reduce tree of contiguous groups, the root run marked final.
 */
import assert from 'node:assert/strict';
import { memoryByteSource, planByteSplits, readLineAlignedRange } from '../../src/files/index.js';
import { encoder } from '../files/text-fixtures.js';
import { catalogue } from './helpers.js';

const signal = new AbortController().signal;

/** Validates `args`, then runs the task with `final` set as given. */
export async function runText(name: string, args: unknown[], final: boolean): Promise<unknown> {
  const task = catalogue.get(name);
  assert.ok(task, `unknown task ${name}`);
  const parsed = catalogue.parseArgs(name, args);
  if (!parsed.ok) assert.fail(`invalid args for ${name}: ${JSON.stringify(parsed.issues)}`);
  return await task.run(parsed.args, { signal, final });
}

/** Path to the first part of `value` that is not plain JSON (a Map, undefined, NaN...), or undefined. */
function notPlainJson(value: unknown, path = ''): string | undefined {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return undefined;
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : path;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const bad = notPlainJson(value[i], `${path}/${i}`);
      if (bad !== undefined) return bad;
    }
    return undefined;
  }
  if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    for (const [key, item] of Object.entries(value)) {
      const bad = notPlainJson(item, `${path}/${key}`);
      if (bad !== undefined) return bad;
    }
    return undefined;
  }
  return path;
}

/** A value after a trip through JSON, asserting that it is plain JSON (as partial results must be). */
export function viaJson(value: unknown): unknown {
  const bad = notPlainJson(value);
  assert.equal(bad, undefined, `a partial result must be plain JSON; not at ${bad}`);
  return JSON.parse(JSON.stringify(value));
}

/** A text file of a job. */
export interface TextFile {
  readonly name: string;
  readonly text: string;
}

/** What a map-reduce over text files runs. */
export interface TextJob {
  readonly task: string;
  /** Arguments of the map task after the split. */
  readonly mapArgs?: unknown[];
  /** Arguments of the reduce task after the partials. */
  readonly reduceArgs?: unknown[];
}

/** The map task's partial results of every split of every file, in order, each after a trip through JSON. */
export async function mapSplits(job: TextJob, files: readonly TextFile[], splitBytes: number): Promise<unknown[]> {
  const partials: unknown[] = [];
  for (const file of files) {
    const bytes = encoder.encode(file.text);
    const source = memoryByteSource(bytes);
    for (const { start, end } of planByteSplits(bytes.length, { splitBytes })) {
      const split = { file: file.name, bytes: await readLineAlignedRange(source, start, end) };
      partials.push(viaJson(await runText(job.task, [split, ...(job.mapArgs ?? [])], false)));
    }
  }
  return partials;
}

/**
 * Reduces `partials` as an ordered tree: contiguous groups of `fanIn`, level by
 * level, until one run produces the final value (there is always at least one
 * level, as in the engine, even for zero or one partial).
 */
export async function reduceTree(job: TextJob, partials: readonly unknown[], fanIn: number): Promise<unknown> {
  let level = [...partials];
  for (;;) {
    const groups: unknown[][] = [];
    for (let i = 0; i < level.length; i += fanIn) groups.push(level.slice(i, i + fanIn));
    if (groups.length === 0) groups.push([]);
    const final = groups.length === 1;
    const next: unknown[] = [];
    for (const group of groups) {
      const value = await runText(job.task, [group, ...(job.reduceArgs ?? [])], final);
      next.push(final ? value : viaJson(value));
    }
    if (final) return next[0];
    level = next;
  }
}

/** Lines of a text as the tasks define them: split on `\n`, a `\r` before it dropped, a final line without `\n` kept. */
export function referenceLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split('\n');
  if (text.endsWith('\n')) lines.pop();
  return lines.map((line) => (line.endsWith('\r') ? line.slice(0, -1) : line));
}

/** Fan-ins the tests reduce with. */
export const FAN_INS = [2, 3, 16];
