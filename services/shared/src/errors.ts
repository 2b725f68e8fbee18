/**
 * The error registry shared by every Weft package. Each error has a stable
 * machine-readable `code`; HTTP statuses are assigned only by the API's error handler.
 */

/** One problem found in user input, located by a JSON Pointer into the offending document. */
export interface InputIssue {
  /** JSON Pointer (RFC 6901) to the offending field, e.g. `/chain/1/args/0`; `""` is the whole document. */
  readonly pointer: string;
  readonly message: string;
}

/** A node of a job, as errors name it: its JSON Pointer in the spec, and its task if it is one. */
export interface NodeRef {
  readonly pointer: string;
  readonly task?: string;
}

/** Base class of every Weft error. */
export abstract class WeftError extends Error {
  /** Stable code clients can match on, e.g. `UNKNOWN_TASK`. */
  abstract readonly code: string;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The request or spec does not match the schema. */
export class InvalidSpecError extends WeftError {
  readonly code = 'INVALID_SPEC';
  constructor(readonly issues: readonly InputIssue[], message = describeIssues(issues)) {
    super(message);
  }
}

/** A node names a task the catalogue does not know. */
export class UnknownTaskError extends WeftError {
  readonly code = 'UNKNOWN_TASK';
  constructor(
    readonly task: string,
    readonly pointer: string,
    readonly known: readonly string[],
  ) {
    super(`unknown task "${task}" at ${pointer || '/'}; known tasks: ${known.join(', ')}`);
  }
}

/** A task's arguments do not match its schema. */
export class InvalidTaskArgsError extends WeftError {
  readonly code = 'INVALID_TASK_ARGS';
  constructor(
    readonly task: string,
    readonly issues: readonly InputIssue[],
  ) {
    super(`invalid arguments for task "${task}": ${describeIssues(issues)}`);
  }
}

/** The spec exceeds a configured size limit (nodes, depth, chunks). */
export class SpecLimitError extends WeftError {
  readonly code = 'SPEC_LIMIT_EXCEEDED';
  constructor(
    readonly limit: string,
    readonly max: number,
    readonly pointer: string,
    message: string,
  ) {
    super(message);
  }
}

/** The request body is not valid JSON. */
export class MalformedJsonError extends WeftError {
  readonly code = 'MALFORMED_JSON';
}

/** No job has the given id. */
export class JobNotFoundError extends WeftError {
  readonly code = 'JOB_NOT_FOUND';
  constructor(readonly jobId: string) {
    super(`job "${jobId}" not found`);
  }
}

/** A job cannot be cancelled: it ended already, in another status. */
export class JobEndedError extends WeftError {
  readonly code = 'JOB_ENDED';
  constructor(
    readonly jobId: string,
    /** How it ended. (Not `status`: HTTP frameworks take an error's `status` for theirs.) */
    readonly jobStatus: string,
  ) {
    super(`job "${jobId}" has already ended (${jobStatus})`);
  }
}

/** A stored value could not be found (expired or deleted). */
export class ValueNotFoundError extends WeftError {
  readonly code = 'VALUE_NOT_FOUND';
}

/**
 * A value too large to store (beyond `WEFT_MAX_VALUE_BYTES`), or to encode as JSON at
 * all (beyond what a string can hold, or nested too deep). No delivery can change
 * that: the job fails at once.
 */
export class ValueTooLargeError extends WeftError {
  readonly code = 'VALUE_TOO_LARGE';

  constructor(
    message: string,
    options?: { cause?: unknown },
    /** The node of the job whose value it is, once known. */
    readonly node?: NodeRef,
  ) {
    super(message, options);
  }

  /** This error about the value of `node`, unless it names a node already (the one whose value it is). */
  about(node: NodeRef): ValueTooLargeError {
    return this.node === undefined ? new ValueTooLargeError(this.message, { cause: this.cause }, node) : this;
  }
}

/** A message on a NATS subject did not match its schema. */
export class InvalidMessageError extends WeftError {
  readonly code = 'INVALID_MESSAGE';
}

/**
 * JetStream did not acknowledge a write in time, or the connection to NATS was lost
 * or re-established while the write waited (its acknowledgement cannot come then).
 * Either way the write may have been stored or not; whoever wrote may try again.
 */
export class WriteTimeoutError extends WeftError {
  readonly code = 'WRITE_TIMEOUT';
  constructor(
    readonly subject: string,
    readonly timeoutMs: number,
    /** Whether the write failed early, when the connection was lost or re-established, rather than after `timeoutMs`. */
    readonly connectionLost = false,
  ) {
    super(
      connectionLost
        ? `the connection to NATS was interrupted before JetStream acknowledged a write to ${subject}`
        : `JetStream did not acknowledge a write to ${subject} within ${timeoutMs} ms`,
    );
  }
}

/** A read of a stream ended before it delivered all it was asked for: JetStream stopped answering; the reader may try again. */
export class IncompleteReadError extends WeftError {
  readonly code = 'INCOMPLETE_READ';
}

/** Configuration from the environment is invalid. */
export class ConfigError extends WeftError {
  readonly code = 'INVALID_CONFIG';
  constructor(readonly issues: readonly InputIssue[]) {
    super(`invalid configuration: ${describeIssues(issues)}`);
  }
}

/** A file name is not acceptable (traversal, control characters, too long, …). */
export class InvalidFileNameError extends WeftError {
  readonly code = 'INVALID_FILE_NAME';
  constructor(
    readonly fileName: string,
    readonly reason: string,
    /** Where the name came from: `""` for a URL path, a JSON Pointer into a job spec otherwise. */
    readonly pointer = '',
  ) {
    super(`invalid file name ${JSON.stringify(fileName.slice(0, 200))}: ${reason}`);
  }
}

/** No stored file has the given name. */
export class FileNotFoundError extends WeftError {
  readonly code = 'FILE_NOT_FOUND';
  /** @param why what makes it not found when it is not plainly missing */
  constructor(
    readonly fileName: string,
    why?: string,
  ) {
    super(`file ${JSON.stringify(fileName)} not found${why === undefined ? '' : `: ${why}`}`);
  }
}

/** An upload is larger than the configured limit. */
export class FileTooLargeError extends WeftError {
  readonly code = 'FILE_TOO_LARGE';
  constructor(readonly maxBytes: number) {
    super(`the file exceeds the limit of ${maxBytes} bytes`);
  }
}

/** A `Range` request header cannot be satisfied for the file. */
export class RangeNotSatisfiableError extends WeftError {
  readonly code = 'RANGE_NOT_SATISFIABLE';
  constructor(
    readonly range: string,
    readonly size: number,
  ) {
    super(`range ${JSON.stringify(range)} cannot be satisfied for a file of ${size} bytes`);
  }
}

/** A file input of a job spec cannot be resolved (missing file, empty glob, unreachable URL, no shared volume). */
export class FileInputError extends WeftError {
  readonly code = 'INVALID_FILE_INPUT';
  constructor(readonly issues: readonly InputIssue[]) {
    super(describeIssues(issues));
  }
}

/** A split holds more than {@link MAX_SPLIT_BYTES}: its lines are too long to hold in memory and decode as text. */
export class SplitTooLargeError extends WeftError {
  readonly code = 'SPLIT_TOO_LARGE';
}

/** A conditional change of a stored file did not go ahead: the file is not as the request required. */
export class PreconditionFailedError extends WeftError {
  readonly code = 'PRECONDITION_FAILED';
  constructor(readonly fileName: string) {
    super(`file "${fileName}" is not as the request's preconditions require (If-Match, If-None-Match, If-Unmodified-Since)`);
  }
}

/** A stored file changed or disappeared while it was being read (replaced, deleted, or its data lost). */
export class FileChangedError extends WeftError {
  readonly code = 'FILE_CHANGED';
}

/**
 * Whether `err` says an input file cannot be read as the job needs it: gone, changed
 * since the job was submitted, or holding lines too long for a split. Retrying does
 * not help: the job fails.
 */
export function isFileInputProblem(err: unknown): err is FileNotFoundError | FileChangedError | SplitTooLargeError {
  return err instanceof FileNotFoundError || err instanceof FileChangedError || err instanceof SplitTooLargeError;
}

/** Formats issues as one line, `/a/b: message; /c: message`: the first {@link MAX_REPORTED_ISSUES}, and how many more. */
export function describeIssues(issues: readonly InputIssue[]): string {
  const shown = issues.slice(0, MAX_REPORTED_ISSUES).map((i) => `${i.pointer || '/'}: ${i.message}`).join('; ');
  return issues.length > MAX_REPORTED_ISSUES ? `${shown}; and ${issues.length - MAX_REPORTED_ISSUES} more` : shown;
}

/** Most issues a rejection of input lists (and describes): the first ones say what is wrong. */
export const MAX_REPORTED_ISSUES = 20;

/** Builds a JSON Pointer from path segments, escaping `~` and `/`. */
export function toPointer(path: readonly PropertyKey[]): string {
  return path
    .map((seg) => '/' + String(seg).replaceAll('~', '~0').replaceAll('/', '~1'))
    .join('');
}
