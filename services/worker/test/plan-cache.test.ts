import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { newJobId, TaskCatalogue, type StoredValue } from '@weft/shared';
import { PlanCache, planMemoryBytes } from '../src/engine/plan-cache.js';
import { startHarness, type Harness } from './harness.js';

describe('PlanCache', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => h.close());

  /** Stores a map-reduce spec over `items` numbers under a new job id, as a submission does. */
  async function share(cache: PlanCache, items: number): Promise<{ jobId: string; spec: StoredValue }> {
    const jobId = newJobId();
    const body = { mapReduce: { input: { items: Array.from({ length: items }, (_, i) => i) }, map: { task: 'squares' }, reduce: { task: 'sum' } } };
    const spec = await h.values.store(body, `spec-${jobId}`);
    await cache.share(jobId, spec);
    return { jobId, spec };
  }

  /** Whether the cache still holds the job's plan: the spec is gone from the bucket, so only a held plan loads. */
  async function holds(cache: PlanCache, jobId: string): Promise<boolean> {
    await h.infra.specs.delete(jobId);
    return cache.get(jobId).then(
      () => true,
      () => false,
    );
  }

  it('keeps the most recently used plans, as many as allowed', async () => {
    const cache = new PlanCache(h.infra.specs, h.values, TaskCatalogue.builtin(), { maxPlans: 3 });
    const jobs = [];
    for (let i = 0; i < 5; i++) jobs.push(await share(cache, 10));
    for (const { jobId } of jobs.slice(0, 3)) await cache.get(jobId);
    await cache.get(jobs[0]!.jobId); // used again: the second is now the least recent
    for (const { jobId } of jobs.slice(3)) await cache.get(jobId);
    assert.equal(cache.size, 3);
    assert.deepEqual(
      await Promise.all(jobs.map(({ jobId }) => holds(cache, jobId))),
      [true, false, false, true, true],
    );
  });

  it('keeps plans within the memory allowed, and always the last one', async () => {
    const cache = new PlanCache(h.infra.specs, h.values, TaskCatalogue.builtin(), { maxBytes: 600_000 });
    // About 190 kB of spec each (stored apart from the bucket entry, which records the
    // size), and one node: some 285 kB of plan each.
    const large = [await share(cache, 30_000), await share(cache, 30_000), await share(cache, 30_000)];
    assert.ok(large.every(({ spec }) => 'bytes' in spec && spec.bytes > 150_000 && spec.bytes < 200_000));
    const small = await share(cache, 10);
    const [first, second, third] = large as [(typeof large)[0], (typeof large)[0], (typeof large)[0]];
    await cache.get(first.jobId);
    await cache.get(second.jobId);
    await cache.get(small.jobId);
    await cache.get(third.jobId);
    assert.equal(cache.size, 3, 'the least recently used plan went, and no other');
    assert.deepEqual(
      await Promise.all([small, ...large].map(({ jobId }) => holds(cache, jobId))),
      [true, false, true, true],
    );

    const tiny = new PlanCache(h.infra.specs, h.values, TaskCatalogue.builtin(), { maxBytes: 1000 });
    const last = await share(tiny, 30_000);
    await tiny.get(last.jobId);
    assert.ok(await holds(tiny, last.jobId), 'the plan used last stays, whatever its size');
  });

  it('weighs a plan by its nodes too, not by its spec alone', async () => {
    // 20,000 tasks in under 700 kB of spec: some 7 MB of plan.
    const cache = new PlanCache(h.infra.specs, h.values, TaskCatalogue.builtin(), { maxBytes: 10_000_000 });
    const groups = [];
    for (let g = 0; g < 2; g++) {
      const jobId = newJobId();
      const spec = await h.values.store({ group: Array.from({ length: 20_000 }, (_, i) => ({ task: 'add', args: [i, g] })) }, `spec-${jobId}`);
      assert.ok('bytes' in spec && spec.bytes < 700_000, JSON.stringify(spec));
      await cache.share(jobId, spec);
      groups.push(jobId);
    }
    for (const jobId of groups) await cache.get(jobId);
    assert.equal(cache.size, 1, 'the first plan went');
    assert.deepEqual(await Promise.all(groups.map((jobId) => holds(cache, jobId))), [false, true]);
    assert.ok(planMemoryBytes(700_000, 20_001) > 6_000_000);
  });

  it('keeps the plans in use, whatever their size', async () => {
    const busy = new Set<string>();
    const cache = new PlanCache(h.infra.specs, h.values, TaskCatalogue.builtin(), { maxBytes: 600_000, inUse: (jobId) => busy.has(jobId) });
    const large = [await share(cache, 30_000), await share(cache, 30_000), await share(cache, 30_000)];
    for (const { jobId } of large) {
      busy.add(jobId);
      await cache.get(jobId);
    }
    assert.equal(cache.size, 3);
    busy.clear();
    const another = await share(cache, 30_000);
    await cache.get(another.jobId);
    assert.equal(cache.size, 2, 'idle again, the oldest went');
    assert.deepEqual(
      await Promise.all([...large, another].map(({ jobId }) => holds(cache, jobId))),
      [false, false, true, true],
    );
  });

  it('forgets the plan of a job that ended', async () => {
    const cache = new PlanCache(h.infra.specs, h.values, TaskCatalogue.builtin());
    const { jobId } = await share(cache, 10);
    await cache.get(jobId);
    cache.forget(jobId);
    assert.equal(cache.size, 0);
    assert.equal(await holds(cache, jobId), false);
  });
});
