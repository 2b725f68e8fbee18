import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ClosedConnectionError, NoRespondersError, PermissionViolationError, RequestError, TimeoutError } from '@nats-io/transport-node';
import { WriteTimeoutError } from '../../src/errors.js';
import { isNatsUnavailable } from '../../src/nats/jetstream-errors.js';

void describe('isNatsUnavailable', () => {
  void it('tells a NATS that did not answer from one that refused', () => {
    const unavailable = [
      new WriteTimeoutError('weft.jobs', 5000),
      new ClosedConnectionError(),
      new RequestError('request failed', { cause: new TimeoutError() }),
      new RequestError('request failed', { cause: new NoRespondersError('$JS.API.x') }),
      new Error('wrapped', { cause: new ClosedConnectionError() }),
    ];
    for (const err of unavailable) assert.equal(isNatsUnavailable(err), true, err.message);
    const refused = [
      new RequestError('request failed', { cause: new PermissionViolationError('denied', 'publish', '$KV.x') }),
      new RequestError('request failed'),
      new Error('something else'),
      'not an error',
    ];
    for (const err of refused) assert.equal(isNatsUnavailable(err), false, String(err));
  });
});
