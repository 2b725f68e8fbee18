import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  decodeWire,
  encodeWire,
  JobRecordSchema,
  parseMessage,
  prepareJob,
  publishStart,
  storeJobSpec,
  TaskCatalogue,
  ValueStore,
  WriteTimeoutError,
  type Infrastructure,
  type PublishJobOptions,
} from '../../src/index.js';
import { startInstallation, type TestInstallation } from '../installation.js';

const LIMITS = { maxNodes: 1000, maxDepth: 16, maxChunks: 1000 };

describe('publishing a job', () => {
  let installation: TestInstallation;
  let infra: Infrastructure;
  let values: ValueStore;

  before(async () => {
    installation = await startInstallation('submit');
    infra = installation.infra;
    values = new ValueStore(infra, 1024);
  });
  after(async () => installation.close());

  /**
   * Publishes a job through a writer whose publishes (the start item and the index
   * entry) settle when told to: all of them, or only those on the index's subject.
   */
  async function publishHeld(options: PublishJobOptions = {}) {
    const job = await prepareJob({ task: 'add', args: [1, 2] }, TaskCatalogue.builtin(), LIMITS);
    const held: { subject: string; resolve: () => void; reject: (err: Error) => void }[] = [];
    const writer = {
      publish: (...args: Parameters<Infrastructure['writer']['publish']>) =>
        new Promise((resolve, reject) => {
          held.push({ subject: args[0], resolve: () => resolve(infra.writer.publish(...args)), reject });
        }),
    };
    const publishing = publishStart({ ...infra, writer } as unknown as Infrastructure, job, await storeJobSpec(values, job), options);
    assert.equal(held.length, 2, 'the start item and the index entry go out at once');
    const isIndex = (h: { subject: string }) => h.subject === infra.names.jobIndexSubject;
    const settle = {
      resolve: () => held.forEach((h) => h.resolve()),
      reject: (err: Error) => held.forEach((h) => h.reject(err)),
      rejectIndexOnly: (err: Error) => held.forEach((h) => (isIndex(h) ? h.reject(err) : h.resolve())),
    };
    return { job, publishing, settle };
  }

  /** The ids in the job index. */
  async function indexed(): Promise<string[]> {
    const ids: string[] = [];
    const { state } = await infra.jsm.streams.info(infra.names.jobIndexStream);
    for (let seq = state.first_seq; state.messages > 0 && seq <= state.last_seq; seq++) {
      const msg = await infra.jsm.streams.getMessage(infra.names.jobIndexStream, { seq });
      if (msg) ids.push((decodeWire(msg.string()) as { id: string }).id);
    }
    return ids;
  }

  it('creates the queued record only once the start item is stored', async () => {
    const { job, publishing, settle } = await publishHeld();
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(await infra.jobs.get(job.id), null, 'a record before the start item');
    settle.resolve();
    await publishing;
    const entry = await infra.jobs.get(job.id);
    assert.equal(entry?.operation, 'PUT');
    assert.equal(parseMessage(JobRecordSchema, decodeWire(entry.string()), 'record').status, 'queued');
    assert.ok((await indexed()).includes(job.id), 'the job is in the index');
  });

  it('leaves no record behind when the start item is not stored: the job never started', async () => {
    const { job, publishing, settle } = await publishHeld();
    settle.reject(new WriteTimeoutError('weft.tasks.default', 5000));
    await assert.rejects(publishing, WriteTimeoutError);
    assert.equal(await infra.jobs.get(job.id), null);
  });

  it('starts the job though its index entry was not written, and says so', async () => {
    const failures: unknown[] = [];
    const { job, publishing, settle } = await publishHeld({ onIndexFailure: (err) => failures.push(err) });
    const refused = new WriteTimeoutError(infra.names.jobIndexSubject, 5000);
    settle.rejectIndexOnly(refused);
    await publishing;
    assert.deepEqual(failures, [refused]);
    const entry = await infra.jobs.get(job.id);
    assert.equal(parseMessage(JobRecordSchema, decodeWire(entry!.string()), 'record').status, 'queued');
    assert.ok(!(await indexed()).includes(job.id));
  });

  it('keeps the record a worker wrote first: the job started already', async () => {
    const { job, publishing, settle } = await publishHeld();
    await infra.jobs.create(job.id, encodeWire({ ...job.record, status: 'running' }));
    settle.resolve();
    await publishing;
    const entry = await infra.jobs.get(job.id);
    assert.equal(parseMessage(JobRecordSchema, decodeWire(entry!.string()), 'record').status, 'running');
  });
});
