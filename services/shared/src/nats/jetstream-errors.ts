import { JetStreamApiCodes, JetStreamApiError } from '@nats-io/jetstream';
import {
  AuthorizationError,
  ClosedConnectionError,
  ConnectionError,
  DrainingConnectionError,
  NoRespondersError,
  PermissionViolationError,
  TimeoutError,
} from '@nats-io/transport-node';
import { IncompleteReadError, WriteTimeoutError } from '../errors.js';

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

/**
 * Whether `err` (or its cause) says NATS or JetStream did not answer: the connection
 * is closed or reconnecting, a request timed out or found no responder, a write was
 * not acknowledged in time, a read of a stream ended short. Such a failure passes;
 * whoever asked may try again. A request refused (a permission denied, say) did get
 * its answer: not this.
 */
export function isNatsUnavailable(err: unknown): boolean {
  // nats.js wraps a failed request in a RequestError whose cause says why; so may others.
  for (let current = err, depth = 0; current instanceof Error && depth < 4; current = current.cause, depth++) {
    if (
      current instanceof WriteTimeoutError ||
      current instanceof IncompleteReadError ||
      current instanceof TimeoutError ||
      current instanceof NoRespondersError ||
      current instanceof ClosedConnectionError ||
      current instanceof DrainingConnectionError ||
      current instanceof ConnectionError
    ) {
      return true;
    }
    if (current instanceof PermissionViolationError || current instanceof AuthorizationError) return false;
  }
  return false;
}
