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

  /** Publishes a job through a writer whose publish settles when told to. */
  async function publishHeld() {
    const job = await prepareJob({ task: 'add', args: [1, 2] }, TaskCatalogue.builtin(), LIMITS);
    let settle!: { resolve: (ack: unknown) => void; reject: (err: Error) => void };
    let asked!: () => void;
    const publishAsked = new Promise<void>((resolve) => (asked = resolve));
    const writer = {
      publish: (...args: Parameters<Infrastructure['writer']['publish']>) =>
        new Promise((resolve, reject) => {
          settle = { resolve: () => resolve(infra.writer.publish(...args)), reject };
          asked();
        }),
    };
    const publishing = publishStart({ ...infra, writer } as unknown as Infrastructure, job, await storeJobSpec(values, job));
    await publishAsked;
    return { job, publishing, settle };
  }

  it('creates the queued record only once the start item is stored', async () => {
    const { job, publishing, settle } = await publishHeld();
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(await infra.jobs.get(job.id), null, 'a record before the start item');
    settle.resolve(undefined);
    await publishing;
    const entry = await infra.jobs.get(job.id);
    assert.equal(entry?.operation, 'PUT');
    assert.equal(parseMessage(JobRecordSchema, decodeWire(entry.string()), 'record').status, 'queued');
  });

  it('leaves no record behind when the start item is not stored: the job never started', async () => {
    const { job, publishing, settle } = await publishHeld();
    settle.reject(new WriteTimeoutError('weft.tasks.default', 5000));
    await assert.rejects(publishing, WriteTimeoutError);
    assert.equal(await infra.jobs.get(job.id), null);
  });

  it('keeps the record a worker wrote first: the job started already', async () => {
    const { job, publishing, settle } = await publishHeld();
    await infra.jobs.create(job.id, encodeWire({ ...job.record, status: 'running' }));
    settle.resolve(undefined);
    await publishing;
    const entry = await infra.jobs.get(job.id);
    assert.equal(parseMessage(JobRecordSchema, decodeWire(entry!.string()), 'record').status, 'running');
  });
});
