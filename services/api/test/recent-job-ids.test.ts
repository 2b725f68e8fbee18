import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { encodeWire, newJobId, type JobRecord } from '@weft/shared';
import { recentJobIds, type RecentJobIdsOptions } from '../src/jobs/recent-job-ids.js';
import { startTestEnv, type TestEnv } from './helpers/test-env.js';

describe('recent job ids', () => {
  let env: TestEnv;
  before(async () => {
    env = await startTestEnv({ worker: false });
  });
  after(async () => env.close());

  /** Writes the record of a job created at `createdMs`. */
  async function write(createdMs: number): Promise<string> {
    const id = newJobId(createdMs);
    const record: JobRecord = { id, status: 'queued', kind: 'task', createdAt: new Date(createdMs).toISOString(), progress: { done: 0, total: 1 } };
    await env.infra.jobs.put(id, encodeWire(record));
    return id;
  }

  async function take(count: number, options: RecentJobIdsOptions): Promise<string[]> {
    const ids: string[] = [];
    if (count === 0) return ids;
    for await (const id of recentJobIds(env.infra, options)) {
      ids.push(id);
      if (ids.length === count) break;
    }
    return ids;
  }

  it('yields nothing for an empty bucket', async () => {
    assert.deepEqual(await take(10, { expected: 10 }), []);
  });

  it('yields every id once, newest first, through widening windows', async () => {
    // Windows from four messages on need several widenings to cover these 201 messages,
    // written over about a second; some jobs were created long before their record was written.
    const written: string[] = [];
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 40; i++) written.push(await write(Date.now() - (i % 10 === 0 ? 3_600_000 + i : 0)));
      await sleep(200);
    }
    // One job is written again: its message moves to the end of the stream.
    const rewritten = written[3] as string;
    await env.infra.jobs.put(rewritten, encodeWire({ id: rewritten, status: 'running', kind: 'task', createdAt: new Date().toISOString(), progress: { done: 0, total: 1 } } satisfies JobRecord));
    const newestFirst = [...written].sort().reverse();

    const options = { expected: 1, minWindow: 4, clockSkewMs: 0 };
    assert.deepEqual(await take(written.length + 1, options), newestFirst);
    assert.deepEqual(await take(7, options), newestFirst.slice(0, 7));
    // With the default window, one read covers it all.
    assert.deepEqual(await take(written.length + 1, { expected: 5 }), newestFirst);
  });

  it('leaves no consumer behind, whether read to the end or not', async () => {
    const { jsm, names } = env.infra;
    await take(3, { expected: 1, minWindow: 4, clockSkewMs: 0 });
    await take(1_000, { expected: 1 });
    const consumers = await jsm.consumers.list(`KV_${names.jobsBucket}`).next();
    assert.deepEqual(consumers, []);
  });
});
