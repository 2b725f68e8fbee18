import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { openFileStore, outputUploadId, type FileStore } from '@weft/shared';
import type { JobAccepted } from '../../src/index.js';
import { bodyOf, postJson } from '../helpers/http.js';
import { startTestEnv, type TestEnv } from '../helpers/test-env.js';

describe('the API sweeping the file store', () => {
  let env: TestEnv;
  let store: FileStore;
  before(async () => {
    // Sweeps every second, of uploads untouched for a second.
    env = await startTestEnv({ config: { fileOrphanGraceMs: 1000 }, worker: false });
    store = openFileStore(env.infra, env.config);
    await env.app.ready();
  });
  after(async () => {
    await env?.close();
  });

  async function hasUpload(id: string): Promise<boolean> {
    const info = await env.infra.jsm.streams.info(env.infra.names.fileDataStream, { subjects_filter: env.infra.names.fileDataSubject(id) });
    return Object.keys(info.state.subjects ?? {}).length > 0;
  }

  async function until(what: string, condition: () => Promise<boolean>): Promise<void> {
    const deadline = Date.now() + 15_000;
    while (!(await condition())) {
      assert.ok(Date.now() < deadline, `timed out waiting until ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  it('removes an upload cut off before its manifest, and keeps stored files', async () => {
    const stored = await store.put('kept.txt', Readable.from([Buffer.from('kept\n')]) as AsyncIterable<Uint8Array>);
    await store.appendParts('cut_off_upload', Buffer.from('no manifest was written for these parts\n'));
    await until('the cut-off upload is removed', async () => !(await hasUpload('cut_off_upload')));
    assert.ok(await hasUpload(stored.id));
    assert.equal((await env.app.inject({ url: '/v1/files/kept.txt' })).body, 'kept\n');
  });

  it('keeps the output pieces of a job until it has ended, then removes them', async () => {
    // No worker serves this queue: the job stays queued.
    const response = await postJson(env.app, '/v1/jobs', { task: 'add', args: [1, 2], queue: 'unserved' });
    assert.equal(response.statusCode, 202, response.body);
    const { id: jobId } = bodyOf<JobAccepted>(response);
    const upload = outputUploadId(jobId, 'r');
    await store.appendParts(upload, Buffer.from('a piece of a map-reduce output\n'));
    // Several sweeps go by, each finding the piece older than the grace period.
    await new Promise((resolve) => setTimeout(resolve, 3500));
    assert.ok(await hasUpload(upload), 'the output of a job not ended was removed');

    assert.equal((await env.app.inject({ method: 'POST', url: `/v1/jobs/${jobId}/cancel` })).statusCode, 200);
    await until('the pieces of the cancelled job are removed', async () => !(await hasUpload(upload)));
  });
});
