import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { encodeWire, newJobId, type JobRecord, type JobStatus } from '@weft/shared';
import { JobListing } from '../src/jobs/job-listing.js';
import { startTestEnv, type TestEnv } from './helpers/test-env.js';

describe('listing jobs by status', () => {
  let env: TestEnv;
  before(async () => {
    env = await startTestEnv({ worker: false });
  });
  after(async () => env.close());

  /** Writes a record of `status` for a job created `ageMs` ago. */
  async function record(status: JobStatus, ageMs: number): Promise<string> {
    const id = newJobId(Date.now() - ageMs);
    const job: JobRecord = { id, status, kind: 'task', createdAt: new Date().toISOString(), progress: { done: 0, total: 1 } };
    await env.infra.jobs.put(id, encodeWire(job));
    return id;
  }

  it('reads ended jobs it has seen once only, and sees a job that ends later', async () => {
    const ended = [];
    for (let i = 0; i < 200; i++) ended.push(await record(i % 2 === 0 ? 'succeeded' : 'failed', 10_000 + i));
    const running = await record('running', 5_000);
    let reads = 0;
    const jobs = new Proxy(env.infra.jobs, {
      get(target, property, receiver) {
        const value: unknown = Reflect.get(target, property, receiver);
        if (property === 'get' && typeof value === 'function') {
          return (...args: unknown[]) => {
            reads += 1;
            return (value as (...a: unknown[]) => unknown).apply(target, args);
          };
        }
        return value;
      },
    });
    const listing = new JobListing({ ...env.infra, jobs });

    assert.deepEqual((await listing.list({ status: 'running', limit: 10 })).map((r) => r.id), [running]);
    assert.equal(reads, 201, 'the first listing reads every record');
    reads = 0;
    assert.deepEqual((await listing.list({ status: 'running', limit: 10 })).map((r) => r.id), [running]);
    assert.equal(reads, 1, 'the second reads the job that had not ended only');

    reads = 0;
    const succeeded = await listing.list({ status: 'succeeded', limit: 5 });
    assert.equal(succeeded.length, 5);
    assert.ok(succeeded.every((r) => r.status === 'succeeded'));
    assert.ok(reads <= 6, `reads the matches (and the running job) only: ${reads}`);

    const { revision } = (await env.infra.jobs.get(running)) ?? assert.fail('no record');
    await env.infra.jobs.update(running, encodeWire({ id: running, status: 'cancelled', kind: 'task', createdAt: new Date().toISOString(), progress: { done: 0, total: 1 } }), revision);
    assert.deepEqual(await listing.list({ status: 'running', limit: 10 }), []);
    assert.deepEqual((await listing.list({ status: 'cancelled', limit: 10 })).map((r) => r.id), [running]);
  });
});
