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

describe('publishing a job whose start item is not acknowledged', () => {
  let installation: TestInstallation;
  let infra: Infrastructure;
  let values: ValueStore;

  before(async () => {
    installation = await startInstallation('submit');
    infra = installation.infra;
    values = new ValueStore(infra, 1024);
  });
  after(async () => installation.close());

  /** Publishes a job through a writer whose publish fails when `fail` is called, as one whose acknowledgement never came. */
  async function publishUnacknowledged() {
    const job = await prepareJob({ task: 'add', args: [1, 2] }, TaskCatalogue.builtin(), LIMITS);
    let fail!: (err: Error) => void;
    const writer = { publish: () => new Promise((_resolve, reject) => (fail = reject)) };
    const publishing = publishStart({ ...infra, writer } as unknown as Infrastructure, job, await storeJobSpec(values, job));
    let created = await infra.jobs.get(job.id);
    while (created?.operation !== 'PUT') created = await infra.jobs.get(job.id);
    return { job, revision: created.revision, publishing, fail: () => fail(new WriteTimeoutError('weft.tasks.default', 5000)) };
  }

  it('removes the queued record it created: the job never started', async () => {
    const { job, publishing, fail } = await publishUnacknowledged();
    fail();
    await assert.rejects(publishing, WriteTimeoutError);
    assert.equal((await infra.jobs.get(job.id))?.operation, 'DEL');
  });

  it('keeps the record once a worker wrote it: the job did start', async () => {
    const { job, revision, publishing, fail } = await publishUnacknowledged();
    await infra.jobs.update(job.id, encodeWire({ ...job.record, status: 'running' }), revision);
    fail();
    await assert.rejects(publishing, WriteTimeoutError);
    const entry = await infra.jobs.get(job.id);
    assert.equal(entry?.operation, 'PUT');
    assert.equal(parseMessage(JobRecordSchema, decodeWire(entry.string()), 'record').status, 'running');
  });
});
