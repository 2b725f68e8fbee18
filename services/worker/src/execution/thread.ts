/**
 * Piscina thread entry: runs one CPU-bound catalogue task on arguments the main
 * thread has already validated. Errors come back as values, because error classes
 * do not survive the trip between threads.
 */
import { TaskCatalogue, isPermanentTaskError } from '@weft/shared';

const catalogue = TaskCatalogue.builtin();
const neverAborted = new AbortController().signal;

/** What the main thread sends. */
export interface ThreadRequest {
  readonly task: string;
  readonly args: unknown[];
  /** See `TaskContext.final`. */
  readonly final: boolean;
}

/** What a thread answers. */
export type ThreadResponse =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly permanent: boolean; readonly message: string };

export default async function runInThread(request: ThreadRequest): Promise<ThreadResponse> {
  const def = catalogue.get(request.task);
  if (!def) return { ok: false, permanent: true, message: `unknown task "${request.task}"` };
  try {
    const value: unknown = await def.run(request.args, { signal: neverAborted, final: request.final });
    return { ok: true, value };
  } catch (err) {
    return {
      ok: false,
      permanent: isPermanentTaskError(err),
      message: err instanceof Error ? err.message : String(err),
    };
  }
}
