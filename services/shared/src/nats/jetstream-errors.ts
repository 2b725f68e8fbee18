import { JetStreamApiCodes, JetStreamApiError } from '@nats-io/jetstream';

/**
 * Whether `err` says a compare-and-set write lost: the key changed (or already
 * existed) since the revision the writer expected.
 */
export function isWrongLastSequence(err: unknown): boolean {
  return (
    err instanceof JetStreamApiError &&
    (err.code === JetStreamApiCodes.StreamWrongLastSequence ||
      err.code === (JetStreamApiCodes as Record<string, number>).StreamWrongLastSequenceUnknown)
  );
}
