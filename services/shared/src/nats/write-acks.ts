/**
 * JetStream's acknowledgements of writes, read from the message it sends to a
 * publish's reply subject. Job record writes choose that subject so that the job's
 * watchers receive the acknowledgement as well as the writer (see
 * `ResourceNames.recordAckSubject`).
 */
import { JetStreamApiError } from '@nats-io/jetstream';
import type { Msg } from '@nats-io/transport-node';
import { z } from 'zod';

const PubAckSchema = z.union([
  z.object({ stream: z.string().min(1), seq: z.number().int().positive(), duplicate: z.boolean().optional() }),
  z.object({
    error: z.object({ code: z.number().int(), err_code: z.number().int().default(0), description: z.string().default('') }),
  }),
]);

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
    body = JSON.parse(new TextDecoder().decode(msg.data));
  } catch {
    return { ok: false, error: new Error('undecodable JetStream acknowledgement') };
  }
  const parsed = PubAckSchema.safeParse(body);
  if (!parsed.success) return { ok: false, error: new Error('unexpected JetStream acknowledgement') };
  const ack = parsed.data;
  if ('error' in ack) return { ok: false, error: new JetStreamApiError(ack.error) };
  return { ok: true, stream: ack.stream, seq: ack.seq };
}
