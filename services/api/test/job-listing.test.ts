import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { encodeWire, IncompleteReadError, newJobId, type JobRecord, type JobStatus } from '@weft/shared';
import { toProblem, type JobList } from '../src/index.js';
import { until } from '@weft/shared/testing';
import { JobIndex } from '../src/jobs/job-index.js';
import { JobListing } from '../src/jobs/job-listing.js';
import { bodyOf, problemOf } from './helpers/http.js';
import { startTestEnv, type TestEnv } from './helpers/test-env.js';

describe('listing jobs', () => {
  let env: TestEnv;
  before(async () => {
    env = await startTestEnv({ worker: false });
  });
  after(async () => env.close());
  beforeEach(async () => {
    // Each test starts from an empty index and bucket.
    await env.infra.jsm.streams.purge(env.infra.names.jobIndexStream);
    await env.infra.jsm.streams.purge(`KV_${env.infra.names.jobsBucket}`);
  });

  /** Indexes a job, then writes its record in `status` unless told there is none. */
  async function submitted(status: JobStatus | undefined, id = newJobId()): Promise<string> {
    await env.infra.js.publish(env.infra.names.jobIndexSubject, encodeWire({ id }));
    if (status === undefined) return id;
    const job: JobRecord = { id, status, kind: 'task', createdAt: new Date().toISOString(), progress: { done: 0, total: 1 } };
    await env.infra.jobs.put(id, encodeWire(job));
    return id;
  }

  /** Counts the record reads of a listing; each takes `delayMs` longer. */
  function countingReads(delayMs = 0): { listing: JobListing; reads: () => number; reset: () => void } {
    let reads = 0;
    const jobs = new Proxy(env.infra.jobs, {
      get(target, property, receiver) {
        const value: unknown = Reflect.get(target, property, receiver);
        if (property === 'get' && typeof value === 'function') {
          return async (...args: unknown[]) => {
            reads += 1;
            if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
            return (value as (...a: unknown[]) => unknown).apply(target, args);
          };
        }
        return value;
      },
    });
    return { listing: new JobListing({ ...env.infra, jobs }), reads: () => reads, reset: () => (reads = 0) };
  }

  const ids = (records: readonly JobRecord[]) => records.map((r) => r.id);

  it('reads ended jobs it has seen once only, and sees a job that ends later', async () => {
    for (let i = 0; i < 200; i++) await submitted(i % 2 === 0 ? 'succeeded' : 'failed');
    const running = await submitted('running');
    const { listing, reads, reset } = countingReads();

    assert.deepEqual(ids((await listing.list({ status: 'running', limit: 10 })).records), [running]);
    assert.equal(reads(), 201, 'the first listing reads every record');
    reset();
    assert.deepEqual(ids((await listing.list({ status: 'running', limit: 10 })).records), [running]);
    assert.equal(reads(), 1, 'the second reads the job that had not ended only');

    reset();
    const succeeded = (await listing.list({ status: 'succeeded', limit: 5 })).records;
    assert.equal(succeeded.length, 5);
    assert.ok(succeeded.every((r) => r.status === 'succeeded'));
    assert.ok(reads() <= 6, `reads the matches (and the running job) only: ${reads()}`);

    const { revision } = (await env.infra.jobs.get(running)) ?? assert.fail('no record');
    await env.infra.jobs.update(running, encodeWire({ id: running, status: 'cancelled', kind: 'task', createdAt: new Date().toISOString(), progress: { done: 0, total: 1 } }), revision);
    assert.deepEqual((await listing.list({ status: 'running', limit: 10 })).records, []);
    assert.deepEqual(ids((await listing.list({ status: 'cancelled', limit: 10 })).records), [running]);
  });

  it('reads a record once for listings that want it at the same time', async () => {
    for (let i = 0; i < 100; i++) await submitted(i % 2 === 0 ? 'succeeded' : 'failed');
    // Slow reads: the two listings' first batches are sure to overlap.
    const { listing, reads } = countingReads(200);
    const pages = await Promise.all([listing.list({ status: 'failed', limit: 10 }), listing.list({ status: 'running', limit: 10 })]);
    assert.deepEqual(pages.map((page) => page.records.length), [10, 0]);
    assert.equal(reads(), 100);
  });

  it('pages through every job in the order they were accepted, newest first', async () => {
    const accepted: string[] = [];
    // Ids made out of order: the index's order is the order of acceptance, not the ids'.
    for (let i = 0; i < 25; i++) accepted.push(await submitted('succeeded', newJobId(Date.now() - (i % 3) * 60_000)));
    const newestFirst = accepted.slice().reverse();
    const listing = new JobListing(env.infra);

    const pages: string[][] = [];
    let cursor: string | undefined;
    do {
      const page = await listing.list({ limit: 10, cursor });
      pages.push(ids(page.records));
      cursor = page.next;
    } while (cursor !== undefined);
    assert.deepEqual(pages, [newestFirst.slice(0, 10), newestFirst.slice(10, 20), newestFirst.slice(20)]);

    // A page that takes the very last job has no next page.
    const whole = await listing.list({ limit: 25 });
    assert.deepEqual(ids(whole.records), newestFirst);
    assert.equal(whole.next, undefined);
  });

  it('leaves out jobs without a record, and lists a job indexed twice once', async () => {
    const first = await submitted('succeeded');
    await submitted(undefined);
    const twice = await submitted('running');
    await submitted(undefined);
    await env.infra.js.publish(env.infra.names.jobIndexSubject, encodeWire({ id: twice }));
    await env.infra.js.publish(env.infra.names.jobIndexSubject, encodeWire({ not: 'an entry' }));
    const listing = new JobListing(env.infra);
    assert.deepEqual(ids((await listing.list({ limit: 10 })).records), [twice, first]);
    assert.deepEqual(ids((await listing.list({ limit: 1 })).records), [twice]);
  });

  it('looks through at most its scan limit per page, and goes on from there', async () => {
    const oldest = await submitted('running');
    for (let i = 0; i < 30; i++) await submitted('succeeded');
    const listing = new JobListing(env.infra, { scanLimit: 20 });

    const first = await listing.list({ status: 'running', limit: 5 });
    assert.deepEqual(first.records, [], 'the running job is older than the 20 looked through');
    assert.ok(first.next !== undefined);
    const second = await listing.list({ status: 'running', limit: 5, cursor: first.next });
    assert.deepEqual(ids(second.records), [oldest]);
    assert.equal(second.next, undefined);
  });

  it('fails a read of the index NATS cuts short as unavailable (a 503), and ends one whose entries expired meanwhile', async () => {
    await submitted('succeeded');
    const index = new JobIndex(env.infra);
    const { last } = await index.bounds();
    const consumers = async () => env.infra.jsm.consumers.list(env.infra.names.jobIndexStream).next();
    // The consumers of earlier reads are deleted in the background.
    await until('no other read has a consumer', async () => (await consumers()).length === 0);
    // Waits for an entry to come; its consumer deleted meanwhile, as a restart of the server would.
    const reading = index.read(last + 1, last + 1).then(
      () => 'read on',
      (err: unknown) => err,
    );
    await until('the read has its consumer', async () => (await consumers()).length > 0);
    for (const consumer of await consumers()) await env.infra.jsm.consumers.delete(env.infra.names.jobIndexStream, consumer.name);
    const failure = await reading;
    assert.ok(failure instanceof IncompleteReadError, String(failure));
    assert.equal(toProblem(failure, '/v1/jobs', { bodyLimitBytes: 1024 }).status, 503);

    // Gone between the bounds and the read: nothing to wait for.
    await env.infra.jsm.streams.purge(env.infra.names.jobIndexStream);
    assert.deepEqual(await index.read(last, last), []);
  });

  it('follows `next` links over HTTP, and refuses a malformed cursor', async () => {
    const accepted: string[] = [];
    for (let i = 0; i < 5; i++) accepted.push(await submitted(i === 2 ? 'failed' : 'succeeded'));
    const first = bodyOf<JobList>(await env.app.inject({ url: '/v1/jobs?status=succeeded&limit=2' }));
    assert.deepEqual(first.jobs.map((j) => j.id), [accepted[4], accepted[3]]);
    assert.match(first.next ?? '', /^\/v1\/jobs\?status=succeeded&limit=2&cursor=\d+$/);
    const second = bodyOf<JobList>(await env.app.inject({ url: first.next ?? '' }));
    assert.deepEqual(second.jobs.map((j) => j.id), [accepted[1], accepted[0]]);
    assert.equal(second.next, undefined);

    for (const cursor of ['0', 'abc', '-3', '1.5', '99999999999999999']) {
      const problem = problemOf(await env.app.inject({ url: `/v1/jobs?cursor=${cursor}` }), 400, 'INVALID_REQUEST');
      assert.equal(problem.errors?.[0]?.pointer, '/query/cursor', cursor);
    }
    // A cursor beyond the newest job lists from the newest.
    const beyond = bodyOf<JobList>(await env.app.inject({ url: '/v1/jobs?cursor=999999' }));
    assert.equal(beyond.jobs.length, 5);
  });
});
