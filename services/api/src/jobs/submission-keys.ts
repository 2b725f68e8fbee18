/**
 * Idempotency keys of job submissions. A client that sends `Idempotency-Key` with
 * `POST /v1/jobs` may send the same request again — after a timeout, a 503, a lost
 * connection — and gets the job its first request made, never a second one. A key
 * is kept in the state bucket as long as jobs are (`WEFT_RETENTION_MS`).
 */
import { createHash } from 'node:crypto';
import type { KV } from '@nats-io/kv';
import { z } from 'zod';
import { decodeWire, encodeWire, isJobId, isWrongLastSequence, parseMessage, WeftError } from '@weft/shared';

/** The request header that carries the key. */
export const IDEMPOTENCY_KEY_HEADER = 'idempotency-key';

/** A key as clients may send it: 1 to 255 visible ASCII characters (a UUID, say). */
export const IdempotencyKeySchema = z
  .string()
  .regex(/^[\x21-\x7e]{1,255}$/, 'expected 1 to 255 visible ASCII characters, e.g. a UUID')
  .describe('Makes the submission safe to send again: a request with a key already used answers with the job it made.');

/** What a key was first used for. */
const ClaimSchema = z.object({
  jobId: z.string().refine(isJobId, 'not a job id'),
  /** SHA-256 of the request body as submitted. */
  request: z.string(),
});

/** A key was used before, for another request body. */
export class IdempotencyKeyReusedError extends WeftError {
  readonly code = 'IDEMPOTENCY_KEY_REUSED';
  constructor(readonly jobId: string) {
    super(`the idempotency key was used for another request, which made job "${jobId}"; use a new key for a new job`);
  }
}

/** The job a key stands for. */
export interface SubmissionClaim {
  readonly jobId: string;
  /** Whether an earlier request claimed the key (and `jobId` is its job). */
  readonly repeated: boolean;
}

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/** Claims of idempotency keys, by compare-and-set: of concurrent requests with one key, one job is made. */
export class SubmissionKeys {
  constructor(private readonly state: KV) {}

  /**
   * Claims `key` for a new job `jobId` submitted with `body`, unless a request
   * claimed it before.
   * @returns the job the key stands for now
   * @throws IdempotencyKeyReusedError when the key was claimed for another body
   */
  async claim(key: string, body: unknown, jobId: string): Promise<SubmissionClaim> {
    const request = requestHash(body);
    for (;;) {
      try {
        await this.state.create(entryKey(key), encodeWire({ jobId, request }));
        return { jobId, repeated: false };
      } catch (err) {
        if (!isWrongLastSequence(err)) throw err;
      }
      // Gone between the two calls (expired): claim it afresh.
      const found = await this.lookup(key, request);
      if (found !== undefined) return found;
    }
  }

  /**
   * The job `key` stands for, when a request with `body` claimed it before.
   * @throws IdempotencyKeyReusedError when the key was claimed for another body
   */
  find(key: string, body: unknown): Promise<SubmissionClaim | undefined> {
    return this.lookup(key, requestHash(body));
  }

  private async lookup(key: string, request: string): Promise<SubmissionClaim | undefined> {
    const entry = await this.state.get(entryKey(key));
    if (entry?.operation !== 'PUT') return undefined;
    const claim = parseMessage(ClaimSchema, decodeWire(entry.string()), 'submission claim');
    if (claim.request !== request) throw new IdempotencyKeyReusedError(claim.jobId);
    return { jobId: claim.jobId, repeated: true };
  }
}

const entryKey = (key: string): string => `submission.${sha256(key)}`;

/** The hash of a request body: the same JSON with its keys in another order is the same request. */
function requestHash(body: unknown): string {
  return sha256(encodeWire(sortedKeys(body)));
}

/** A copy of `value` with the keys of every object in sorted order (the depth of a body is bounded). */
function sortedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedKeys);
  if (typeof value !== 'object' || value === null) return value;
  const sorted: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) {
    Object.defineProperty(sorted, key, { value: sortedKeys((value as Record<string, unknown>)[key]), enumerable: true });
  }
  return sorted;
}
