import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DiscardPolicy } from '@nats-io/jetstream';
import { startHarness, type Harness } from './harness.js';

describe('task events that cannot be stored', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
    await h.startWorker({ name: 'eventful' });
  });
  after(async () => h.close());

  /**
   * Runs `submit` (which submits a job and checks it while they are refused) with the
   * event stream refusing new messages (full, discarding new ones), then lets it take
   * them again and waits for the job's end event. @returns the job's id
   */
  async function withEventsRefused(submit: () => Promise<string>): Promise<string> {
    const { jsm, names } = h.infra;
    // A message of no job, so that the stream holds at least one and its limit can be that.
    await h.infra.writer.publish(names.eventSubject('filler'), new Uint8Array(1));
    const { config, state } = await jsm.streams.info(names.eventsStream);
    await jsm.streams.update(names.eventsStream, { ...config, max_msgs: state.messages, discard: DiscardPolicy.New });
    let id: string;
    try {
      id = await submit();
    } finally {
      await jsm.streams.update(names.eventsStream, config);
    }
    await ended(id);
    return id;
  }

  /** Waits until the job's record counts `count` tasks done: their events were published (and refused). */
  async function tasksDone(id: string, count: number): Promise<void> {
    const deadline = Date.now() + 20_000;
    while (((await h.record(id))?.progress.done ?? 0) < count) {
      assert.ok(Date.now() < deadline, 'the job did not get going');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** Waits for the job's end event; its task events come before it. */
  async function ended(id: string): Promise<void> {
    const deadline = Date.now() + 20_000;
    while (!(await h.events(id)).some((event) => event.type === 'job')) {
      assert.ok(Date.now() < deadline, 'no end event');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** Checks, a moment after the first task's event was refused, that the job waits for it. */
  async function waiting(id: string): Promise<void> {
    await tasksDone(id, 1);
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.deepEqual([...(await h.completions(id))], [], 'an event was stored while they were refused');
    assert.equal((await h.record(id))?.status, 'running', 'the job went on without the event');
  }

  it('publishes a refused task event again until it is stored, and only then stores the result', async () => {
    const id = await withEventsRefused(async () => {
      const id = await h.submit({ chain: [{ task: 'sleep', args: [50, 'slept'] }, { task: 'echo' }] });
      await waiting(id);
      return id;
    });
    const done = await h.waitForJob(id);
    assert.equal(done.status, 'succeeded', JSON.stringify(done.error));
    assert.deepEqual(done.value, 'slept');
    const completions = await h.completions(id);
    assert.deepEqual([...completions].sort(), [['/chain/0', 1], ['/chain/1', 1]]);
  });

  it('publishes the end event of a job of one task again, with the task in it', async () => {
    const id = await withEventsRefused(async () => {
      const id = await h.submit({ task: 'sleep', args: [50, 'slept'] });
      // The terminal record is stored before the end event is published.
      assert.equal((await h.waitForJob(id)).status, 'succeeded');
      await new Promise((resolve) => setTimeout(resolve, 150));
      assert.deepEqual(await h.events(id), [], 'an event was stored while they were refused');
      return id;
    });
    assert.deepEqual([...(await h.completions(id))], [['', 1]]);
  });

  it('does the same for the events of map chunks', async () => {
    const id = await withEventsRefused(async () => {
      const id = await h.submit({
        mapReduce: { input: { range: { start: 1, end: 101 } }, chunks: 4, map: { task: 'squares' }, reduce: { task: 'sum' } },
      });
      await waiting(id);
      return id;
    });
    const done = await h.waitForJob(id);
    assert.equal(done.status, 'succeeded', JSON.stringify(done.error));
    assert.equal(done.value, 338350);
    const completions = await h.completions(id);
    for (let chunk = 0; chunk < 4; chunk++) {
      assert.equal(completions.get(`/mapReduce/map#chunk/${chunk}`), 1, `events of chunk ${chunk}`);
    }
    assert.equal(completions.get('/mapReduce/reduce#reduce/1/0'), 1, 'events of the reduce step');
  });
});
