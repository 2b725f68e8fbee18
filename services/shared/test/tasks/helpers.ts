import assert from 'node:assert/strict';
import { TaskCatalogue } from '../../src/tasks/index.js';
import type { TaskArgIssue } from '../../src/tasks/index.js';

/** The built-in catalogue, shared by the task tests. */
export const catalogue = TaskCatalogue.builtin();

/** Validates `args` like the engine does, then runs the task and awaits its value. */
export async function runTask(
  name: string,
  args: unknown[],
  signal: AbortSignal = new AbortController().signal,
): Promise<unknown> {
  const task = catalogue.get(name);
  assert.ok(task, `unknown task ${name}`);
  const parsed = catalogue.parseArgs(name, args);
  if (!parsed.ok) assert.fail(`invalid args for ${name}: ${JSON.stringify(parsed.issues)}`);
  return await task.run(parsed.args, { signal });
}

/** The issues parseArgs reports for invalid `args`. */
export function argIssues(name: string, args: unknown[]): TaskArgIssue[] {
  const parsed = catalogue.parseArgs(name, args);
  assert.equal(parsed.ok, false, `expected ${name}(${String(args)}) to be rejected`);
  return parsed.ok ? [] : parsed.issues;
}

/** Asserts that parseArgs rejects `args` with (at least) an issue at `path`. */
export function assertRejectedAt(name: string, args: unknown[], path: (string | number)[]): void {
  const issues = argIssues(name, args);
  assert.ok(
    issues.some((issue) => JSON.stringify(issue.path) === JSON.stringify(path)),
    `expected an issue at ${JSON.stringify(path)}, got ${JSON.stringify(issues)}`,
  );
}

/** Chunks of `size` consecutive integers covering [start, end). */
export function chunks(start: number, end: number, size: number): number[][] {
  const result: number[][] = [];
  for (let from = start; from < end; from += size) {
    const chunk: number[] = [];
    for (let i = from; i < Math.min(from + size, end); i++) chunk.push(i);
    result.push(chunk);
  }
  return result;
}
