import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { jobOfOutputUpload, newJobId, openFileStore, outputUploadId, type FileStore, type Infrastructure } from '../../src/index.js';
import { startInstallation, type TestInstallation } from '../installation.js';

const GRACE_MS = 60_000;
const text = (value: string) => Readable.from([Buffer.from(value)]) as AsyncIterable<Uint8Array>;

describe('FileStore.sweep', () => {
  let installation: TestInstallation;
  let infra: Infrastructure;
  let store: FileStore;

  before(async () => {
    installation = await startInstallation('sweep');
    infra = installation.infra;
    store = openFileStore(infra, { filePartBytes: 64 });
  });
  after(async () => installation.close());

  /** Upload ids that still have parts. */
  async function uploads(): Promise<Set<string>> {
    const info = await infra.jsm.streams.info(infra.names.fileDataStream, { subjects_filter: infra.names.fileDataSubjects });
    const prefix = infra.names.fileDataSubject('');
    return new Set(Object.keys(info.state.subjects ?? {}).map((subject) => subject.slice(prefix.length)));
  }

  /** Sweeps as if `aheadMs` had passed, with `running` the jobs that have not ended. */
  const sweep = (aheadMs: number, running: ReadonlySet<string> = new Set()) =>
    store.sweep({ graceMs: GRACE_MS, now: Date.now() + aheadMs, jobRunning: (jobId) => Promise.resolve(running.has(jobId)) });

  it('removes uploads nothing refers to once they are older than the grace period, and nothing else', async () => {
    const kept = await store.put('sweep/kept.txt', text('a stored file\nof two lines\n'));
    const replaced = await store.put('sweep/replaced.txt', text('first version\n'));
    const replacement = await store.put('sweep/replaced.txt', text('second version\n'));
    // An upload whose process died before it wrote the manifest.
    const orphan = 'crashed_upload_1';
    await store.appendParts(orphan, Buffer.from('parts without a manifest\n'.repeat(10)));
    assert.ok((await uploads()).has(orphan));

    assert.deepEqual(await sweep(0), [], 'nothing is old enough yet');
    assert.deepEqual(await sweep(2 * GRACE_MS), [orphan]);
    const left = await uploads();
    assert.ok(!left.has(orphan));
    assert.ok(left.has(kept.id) && left.has(replacement.id));
    assert.ok(!left.has(replaced.id), 'a replaced file’s data went with the replacement');
    const parts: Uint8Array[] = [];
    for await (const part of store.read(await store.require('sweep/kept.txt'))) parts.push(part);
    assert.equal(Buffer.concat(parts).toString('utf8'), 'a stored file\nof two lines\n');
    assert.deepEqual(await sweep(2 * GRACE_MS), []);
  });

  it('keeps the output pieces of a map-reduce while its job runs, and removes them once it has ended', async () => {
    const jobId = newJobId();
    const id = outputUploadId(jobId, 'r.0');
    assert.equal(jobOfOutputUpload(id), jobId);
    await store.appendParts(id, Buffer.from('a piece of output\n'));
    assert.deepEqual(await sweep(2 * GRACE_MS, new Set([jobId])), []);
    assert.ok((await uploads()).has(id));
    assert.deepEqual(await sweep(2 * GRACE_MS), [id]);
    assert.ok(!(await uploads()).has(id));
  });

  it('keeps an output file once committed, even after its job ended', async () => {
    const jobId = newJobId();
    const id = outputUploadId(jobId, 'r.1.2');
    const written = await store.appendParts(id, Buffer.from('committed output\n'));
    await store.commit('sweep/output.txt', id, written, 'text/plain');
    assert.deepEqual(await sweep(2 * GRACE_MS), []);
    assert.ok((await uploads()).has(id));
  });

  it('tells output uploads from others', () => {
    assert.equal(jobOfOutputUpload('Xa8Yt5Kq9wVzN2bR0cD4eF'), undefined);
    assert.equal(jobOfOutputUpload('out_notajob_r'), undefined);
    const jobId = newJobId();
    assert.equal(jobOfOutputUpload(outputUploadId(jobId, 'r.g1-0')), jobId);
  });
});
