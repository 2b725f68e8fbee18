/**
 * Zod issues as users read them: a flat list, each with the path of the value it is
 * about, and a union that failed in every branch resolved to the branch the value
 * was meant for rather than reported as one "Invalid input".
 */
import type { z } from 'zod';

/** What zod says of a failed union that was given no message of its own. */
const DEFAULT_UNION_MESSAGE = 'Invalid input';

/** Issues of a value of the type a schema takes, only too large, too small or of the wrong format. */
const OF_ITS_TYPE: ReadonlySet<string> = new Set(['too_big', 'too_small', 'invalid_format', 'not_multiple_of']);

/** One problem with a value, `path` leading to it from the value checked. */
export interface FlatIssue {
  readonly path: (string | number)[];
  readonly message: string;
}

/** `issues` as a flat list, under `prefix`, each failed union resolved (see {@link resolveUnion}). */
export function flattenIssues(issues: readonly z.core.$ZodIssue[], prefix: readonly PropertyKey[] = []): FlatIssue[] {
  const result: FlatIssue[] = [];
  for (const issue of issues) {
    const path = [...prefix, ...issue.path];
    if (issue.code === 'invalid_union' && issue.errors.length > 0) {
      // One by one: a spread of a million issues overflows the stack.
      for (const resolved of resolveUnion(issue.errors, path, issue.message)) result.push(resolved);
    } else {
      result.push({ path: path.map(toPathSegment), message: issue.message });
    }
  }
  return result;
}

/**
 * When every branch of a union failed, the branch the value was meant for: the one
 * that got furthest into it (deepest issue path), and of those the one with the
 * fewest issues (a branch expecting other keys also finds the value's own keys
 * unknown). When none stands out, one issue: the union's own message when it has one;
 * else, when no branch got into the value, the only branch that took its type and
 * found its size or format wrong (a list too long for the list branch, not "expected
 * a string" as well); else what each branch expected.
 */
function resolveUnion(branches: readonly (readonly z.core.$ZodIssue[])[], path: readonly PropertyKey[], message: string): FlatIssue[] {
  let best: readonly z.core.$ZodIssue[] | undefined;
  let bestDepth = 0;
  let tied = false;
  for (const branch of branches) {
    const depth = branch.reduce((max, issue) => Math.max(max, issue.path.length), 0);
    if (depth === 0) continue;
    if (best === undefined || depth > bestDepth || (depth === bestDepth && branch.length < best.length)) {
      best = branch;
      bestDepth = depth;
      tied = false;
    } else if (depth === bestDepth && branch.length === best.length) {
      tied = true;
    }
  }
  if (best !== undefined && !(tied && bestDepth === 1)) return flattenIssues(best, path);
  if (message !== DEFAULT_UNION_MESSAGE) return [{ path: path.map(toPathSegment), message }];
  if (best === undefined) {
    // No branch got into the value: the one that took its type and found only its size
    // or format wrong, if there is exactly one.
    const ofItsType = branches.filter((branch) => branch.every((issue) => OF_ITS_TYPE.has(issue.code)));
    const [only] = ofItsType;
    if (only !== undefined && ofItsType.length === 1) return flattenIssues(only, path);
  }
  const expected = branches.flatMap((branch) =>
    flattenIssues(branch).map((issue) => (issue.path.length === 0 ? issue.message : `${issue.path.join('.')}: ${issue.message}`)),
  );
  return [{ path: path.map(toPathSegment), message: [...new Set(expected)].join('; or ') }];
}

function toPathSegment(segment: PropertyKey): string | number {
  return typeof segment === 'symbol' ? String(segment) : segment;
}
