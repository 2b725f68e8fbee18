/**
 * Piscina thread entry: validates and runs one CPU-bound catalogue task. Errors come
 * back as values, because error classes do not survive the trip between threads.
 *
 * Large values cross between threads in the wire format, as bytes: a first argument
 * given as wire bytes (the partials of a reduce step, a large input of a chain step)
 * is decoded here, and a large
 * result is encoded here when asked (and its buffer transferred, not copied), so the
 * main thread neither decodes nor encodes them.
 */
import { move, transferableSymbol, valueSymbol } from 'piscina';
import {
  decodeWireBytes,
  encodeWireBytes,
  invalidArgsError,
  isFileInputProblem,
  isPermanentTaskError,
  readLocalSplit,
  TaskCatalogue,
  ValueTooLargeError,
  type LocalSplit,
} from '@weft/shared';

const catalogue = TaskCatalogue.builtin();
const neverAborted = new AbortController().signal;

/** Results with more entries than this are returned encoded when `encodeResult` is set. */
const ENCODE_RESULT_MIN_ENTRIES = 256;

/** What the main thread sends. */
export interface ThreadRequest {
  readonly task: string;
  readonly args: unknown[];
  /** See `TaskContext.final`. */
  readonly final: boolean;
  /** The first argument as a list of values in wire bytes, decoded and put before `args` here. */
  readonly firstArgWire?: readonly Uint8Array[];
  /** The first argument as one value in wire bytes, decoded and put before `args` here. */
  readonly firstArgEncoded?: Uint8Array;
  /** The first argument as a split of a file on the shared volume, read (line-aligned) here. */
  readonly firstArgSplit?: LocalSplit;
  /** Return a large result in wire bytes (`wire`, transferred) instead of as a value. */
  readonly encodeResult?: boolean;
}

/** What a thread answers. */
export type ThreadResponse =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: true; readonly wire: Uint8Array }
  | { readonly ok: false; readonly permanent: boolean; readonly code?: string; readonly message: string };

export default async function runInThread(request: ThreadRequest): Promise<ThreadResponse | Moved> {
  const def = catalogue.get(request.task);
  if (!def) return { ok: false, permanent: true, code: 'UNKNOWN_TASK', message: `unknown task "${request.task}"` };
  let raw: unknown[];
  try {
    raw = request.firstArgWire
      ? [request.firstArgWire.map(decodeWireBytes), ...request.args]
      : request.firstArgEncoded
        ? [decodeWireBytes(request.firstArgEncoded), ...request.args]
        : request.firstArgSplit
          ? [await readLocalSplit(request.firstArgSplit), ...request.args]
          : request.args;
  } catch (err) {
    return failure(err);
  }
  const parsed = catalogue.parseArgs(request.task, raw);
  if (!parsed.ok) {
    const { code, message } = invalidArgsError(request.task, parsed.issues);
    return { ok: false, permanent: true, code, message };
  }
  try {
    const value: unknown = await def.run(parsed.args, { signal: neverAborted, final: request.final });
    if (request.encodeResult && isLarge(value)) return withWire(encodeWireBytes(value));
    return { ok: true, value };
  } catch (err) {
    return failure(err);
  }
}

/**
 * A failed attempt: permanent when the task says so, when the file of its split
 * cannot be read as the job needs it (see `isFileInputProblem`), or when its value
 * cannot be encoded; retryable otherwise.
 */
function failure(err: unknown): ThreadResponse {
  const message = err instanceof Error ? err.message : String(err);
  if (isFileInputProblem(err) || err instanceof ValueTooLargeError) return { ok: false, permanent: true, code: err.code, message };
  return { ok: false, permanent: isPermanentTaskError(err), message };
}

/** A response whose buffer piscina transfers instead of copying; the main thread receives the response itself. */
type Moved = ReturnType<typeof move>;

/** A response with wire bytes, whose buffer is transferred when it holds just them. */
function withWire(wire: Uint8Array): ThreadResponse | Moved {
  const response: ThreadResponse = { ok: true, wire };
  if (wire.byteOffset !== 0 || wire.byteLength !== wire.buffer.byteLength) return response;
  return move({ [transferableSymbol]: wire.buffer, [valueSymbol]: response });
}

/** Whether a value has many entries (counting one level of nesting is enough to tell). */
function isLarge(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  let entries = 0;
  for (const entry of Array.isArray(value) ? (value as unknown[]) : Object.values(value)) {
    entries += Array.isArray(entry) ? entry.length + 1 : 1;
    if (entries > ENCODE_RESULT_MIN_ENTRIES) return true;
  }
  return false;
}
