/**
 * End to end, on one local stack with a shared volume: a large upload and download
 * through the real API process with bounded memory, and a worker SIGKILLed during a
 * word count over a file that still gives exact counts.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe } from 'node:test';
import { expectedWordCount } from '../files/corpus.js';
import { isAlive, jsonOf, waitFor, type Job, type Stack } from './stack.js';
import { onStack } from './suite.js';

const TEST_TIMEOUT_MS = 180_000;
const MiB = 1024 * 1024;
/** Well over 64 MiB: a store that held a file (or a large share of it) in memory would show it. */
const LARGE_FILE_BYTES = 160 * MiB;
/**
 * How much the API's peak memory may grow during the round trip. Buffers are freed
 * by the garbage collector in its own time, so the peak grows by some tens of MiB
 * whatever the file size; holding the file would need more than its size.
 */
const MAX_PEAK_GROWTH_BYTES = 100 * MiB;

const volume = mkdtempSync(path.join(os.tmpdir(), 'weft-e2e-volume-'));

/** A block of text repeated to make a large file with known word counts. */
const BLOCK = 'Été naïve café über the quick brown fox\r\njumps over the lazy dog 2026 don\'t\n\n中文 東京 Ελλάδα\n';

/** Peak resident memory of a process, from /proc, in bytes. */
function peakRss(pid: number): number {
  const kb = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kb) * 1024;
}

/** `bytes` of generated lines, produced on demand (the test never holds them either). */
function generatedStream(bytes: number): Readable {
  const line = Buffer.from('lorem ipsum dolor sit amet, consectetur adipiscing elit 0123456789\n');
  const chunk = Buffer.concat(Array.from({ length: Math.ceil((256 * 1024) / line.length) }, () => line));
  let left = bytes;
  return new Readable({
    read() {
      if (left <= 0) return void this.push(null);
      const piece = chunk.subarray(0, Math.min(chunk.length, left));
      left -= piece.length;
      this.push(piece);
    },
  });
}

/** Streams a generated upload of `bytes` to `url`; resolves with the status and body. */
function putStream(url: string, bytes: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request(url, { method: 'PUT', headers: { 'content-type': 'text/plain', 'content-length': bytes } }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (c: string) => (body += c));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    request.on('error', reject);
    generatedStream(bytes).pipe(request);
  });
}

/** Downloads `url`, hashing as it streams. */
async function hashDownload(url: string): Promise<{ status: number; bytes: number; sha256: string }> {
  const response = await fetch(url);
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of response.body ?? []) {
    hash.update(chunk as Uint8Array);
    bytes += (chunk as Uint8Array).byteLength;
  }
  return { status: response.status, bytes, sha256: hash.digest('hex') };
}

describe('e2e: files on the local stack', { timeout: 400_000 }, () => {
  after(() => rmSync(volume, { recursive: true, force: true }));

  onStack({ testTimeoutMs: TEST_TIMEOUT_MS, stack: { env: { WEFT_DATA_ROOT: volume } } }, ({ stack: current, test }) => {
    let stack: Stack;
    before(() => {
      stack = current();
    });

    test(`uploads and downloads ${LARGE_FILE_BYTES / MiB} MiB with bounded API memory`, async () => {
      const apiPid = stack.state().api.pid;
      assert.ok(apiPid != null);
      const before = peakRss(apiPid);
      const put = await putStream(`${stack.apiUrl}/v1/files/large/lorem.txt`, LARGE_FILE_BYTES);
      assert.equal(put.status, 201, put.body);
      const expected = createHash('sha256');
      for await (const chunk of generatedStream(LARGE_FILE_BYTES)) expected.update(chunk as Buffer);
      const sha256 = expected.digest('hex');
      assert.equal((JSON.parse(put.body) as { sha256: string }).sha256, sha256);
      const download = await hashDownload(`${stack.apiUrl}/v1/files/large/lorem.txt`);
      assert.deepEqual(download, { status: 200, bytes: LARGE_FILE_BYTES, sha256 });
      const growth = peakRss(apiPid) - before;
      assert.ok(growth < MAX_PEAK_GROWTH_BYTES, `the API's peak memory grew by ${(growth / MiB).toFixed(1)} MiB`);
    });

    test('a worker SIGKILLed during a word count over a file: the counts are still exact', async () => {
      const copies = 150_000;
      writeFileSync(path.join(volume, 'big.txt'), BLOCK.repeat(copies));
      const block = expectedWordCount([BLOCK]);
      const expected = {
        total: block.total * copies,
        distinct: block.distinct,
        words: block.words.map(([word, count]) => [word, count * copies]),
      };
      const response = await stack.submit({
        mapReduce: { input: { path: 'big.txt' }, chunks: 60, map: { task: 'word-count' }, reduce: { task: 'word-count' } },
      });
      assert.equal(response.status, 202, response.text);
      const { id } = jsonOf<Job>(response);

      const victim = stack.state().workers.find((worker) => worker.name === 'worker-1');
      assert.ok(victim?.pid != null);
      const victimPid = victim.pid;
      await waitFor('the job to make progress', async () => {
        const job = await stack.getJob(id);
        assert.notEqual(job.status, 'succeeded', 'the job finished before a worker could be killed: make it longer');
        return job.progress.done > 0;
      }, { timeoutMs: 30_000, intervalMs: 20 });
      stack.kill(victimPid);
      await waitFor(`worker-1 (pid ${victimPid}) to die`, () => !isAlive(victimPid), { timeoutMs: 5000, intervalMs: 20 });

      const job = await stack.getJob(id, 120);
      assert.equal(job.status, 'succeeded', JSON.stringify(job.error));
      assert.deepEqual(job.result, expected);
    });
  });
});
