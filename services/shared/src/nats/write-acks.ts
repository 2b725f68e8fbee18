/**
 * JetStream's acknowledgements of writes, read from the message it sends to a
 * publish's reply subject. Job record writes choose that subject so that the job's
 * watchers receive the acknowledgement as well as the writer (see
 * `ResourceNames.recordAckSubject`).
 */
import { JetStreamApiError } from '@nats-io/jetstream';
import type { Msg } from '@nats-io/transport-node';
import { z } from 'zod';

const decoder = new TextDecoder();

const PubAckErrorSchema = z.object({
  error: z.object({ code: z.number().int(), err_code: z.number().int().default(0), description: z.string().default('') }),
});

/** What JetStream answered to a write: stored at `seq` of `stream`, or refused. */
export type WriteAck =
  | { readonly ok: true; readonly stream: string; readonly seq: number }
  | { readonly ok: false; readonly error: Error };

/**
 * Reads JetStream's answer to a write. A refusal carries a `JetStreamApiError` (so
 * `isWrongLastSequence` recognises a lost compare-and-set); a status message instead
 * of an answer (503: no stream takes the subject) and anything undecodable are
 * refusals too.
 */
export function parseWriteAck(msg: Pick<Msg, 'data' | 'headers'>): WriteAck {
  const status = msg.headers?.code ?? 0;
  if (status >= 300 || msg.data.length === 0) {
    return { ok: false, error: new Error(`JetStream did not acknowledge the write (status ${status || 'none'})`) };
  }
  let body: unknown;
  try {
    body = JSON.parse(decoder.decode(msg.data));
  } catch {
    return { ok: false, error: new Error('undecodable JetStream acknowledgement') };
  }
  // Checked by hand: every acknowledged write in a worker passes here.
  if (typeof body === 'object' && body !== null && !('error' in body)) {
    const { stream, seq } = body as { stream?: unknown; seq?: unknown };
    if (typeof stream === 'string' && stream !== '' && Number.isSafeInteger(seq) && (seq as number) > 0) {
      return { ok: true, stream, seq: seq as number };
    }
    return { ok: false, error: new Error('unexpected JetStream acknowledgement') };
  }
  const refusal = PubAckErrorSchema.safeParse(body);
  if (!refusal.success) return { ok: false, error: new Error('unexpected JetStream acknowledgement') };
  return { ok: false, error: new JetStreamApiError(refusal.data.error) };
}
