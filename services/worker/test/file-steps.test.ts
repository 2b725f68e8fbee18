import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createFileAccess, openFileStore, type FileSplitRef } from '@weft/shared';
import { FileSteps } from '../src/engine/file-steps.js';
import { startHarness, type Harness } from './harness.js';

describe('map inputs from the shared volume and URLs', () => {
  let h: Harness;
  let dir: string;
  before(async () => {
    h = await startHarness();
    dir = mkdtempSync(path.join(os.tmpdir(), 'weft-file-steps-'));
  });
  after(async () => {
    rmSync(dir, { recursive: true, force: true });
    await h.close();
  });

  const never = new AbortController().signal;
  /** The options of a map task that is not retried and has no time limit. */
  const ONCE = { retries: 0, backoffMs: 0 };
  const split = (file: string): FileSplitRef => ({ source: { kind: 'volume', path: file, size: 6 }, start: 0, end: 6 });
  const steps = (root: string) => new FileSteps(createFileAccess(openFileStore(h.infra, h.workerConfig()), root), openFileStore(h.infra, h.workerConfig()));

  it('fails the job for a file that is missing', async () => {
    mkdirSync(path.join(dir, 'mounted'));
    const result = await steps(path.join(dir, 'mounted')).mapInput(split('gone.txt'), [], never, ONCE);
    assert.equal(result.ok, false);
    assert.equal(!result.ok && result.code, 'FILE_NOT_FOUND');
  });

  it('throws, for the item to be delivered again, when the volume itself cannot be read yet', async () => {
    const root = path.join(dir, 'not-mounted-yet');
    await assert.rejects(steps(root).mapInput(split('a.txt'), [], never, ONCE), { code: 'ENOENT' });
    mkdirSync(root);
    writeFileSync(path.join(root, 'a.txt'), 'hello\n');
    const result = await steps(root).mapInput(split('a.txt'), [], never, ONCE);
    assert.ok(result.ok);
    assert.equal(result.value.firstArgSplit?.path, path.join(root, 'a.txt'));
  });
  /**
   * A server of `text` (honouring single ranges, with the entity tag `"v1"`) that fails
   * its first `failFirst` requests: drops their connection, or with `errorPage` answers
   * 503 with a page of its own entity tag.
   */
  async function flakyServer(
    text: string,
    failFirst: number,
    errorPage = false,
  ): Promise<{ url: string; requests: () => number; close: () => Promise<void> }> {
    const body = Buffer.from(text);
    let requests = 0;
    const server = http.createServer((request, response) => {
      requests += 1;
      if (requests <= failFirst) {
        if (errorPage) response.writeHead(503, { etag: '"error-page"' }).end('busy');
        else request.socket.destroy();
        return;
      }
      response.setHeader('etag', '"v1"');
      const range = /^bytes=(\d+)-(\d*)$/.exec(request.headers.range ?? '');
      if (!range) {
        response.writeHead(200, { 'content-length': body.length }).end(body);
        return;
      }
      const start = Number(range[1]);
      const end = range[2] === '' ? body.length - 1 : Math.min(Number(range[2]), body.length - 1);
      response.writeHead(206, { 'content-range': `bytes ${start}-${end}/${body.length}`, 'content-length': end - start + 1 });
      response.end(body.subarray(start, end + 1));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    return {
      url: `http://127.0.0.1:${port}/text.txt`,
      requests: () => requests,
      close: () => new Promise((resolve) => server.close(() => resolve())),
    };
  }
  const urlSplit = (url: string, size: number): FileSplitRef => ({ source: { kind: 'url', url, size, ranged: true, etag: '"v1"' }, start: 0, end: size });

  it("tries a URL that fails again as often as the map task's retries allow", async () => {
    const server = await flakyServer('hello\nworld\n', 2);
    try {
      const result = await steps(dir).mapInput(urlSplit(server.url, 12), [], never, { retries: 2, backoffMs: 10 });
      assert.ok(result.ok, JSON.stringify(result));
      const [split] = result.value.args as [{ file: string; bytes: Uint8Array }];
      assert.deepEqual([split.file, Buffer.from(split.bytes).toString()], [server.url, 'hello\nworld\n']);
      assert.equal(server.requests(), 3);
    } finally {
      await server.close();
    }
  });

  it('takes an error page for a failed attempt, whatever its entity tag, not for another version', async () => {
    const server = await flakyServer('hello\nworld\n', 1, true);
    try {
      const result = await steps(dir).mapInput(urlSplit(server.url, 12), [], never, { retries: 1, backoffMs: 10 });
      assert.ok(result.ok, JSON.stringify(result));
      assert.equal(server.requests(), 2);
    } finally {
      await server.close();
    }
  });

  it('fails the map task, naming the URL and the attempts, once its retries are spent', async () => {
    const server = await flakyServer('hello\n', 1000);
    try {
      const result = await steps(dir).mapInput(urlSplit(server.url, 6), [], never, { retries: 1, backoffMs: 10 });
      assert.equal(result.ok, false);
      assert.ok(!result.ok);
      assert.equal(result.code, 'TASK_FAILED');
      assert.equal(result.attempts, 2);
      assert.match(result.message, new RegExp(`reading its split of ${server.url.replaceAll('.', '\\.')} failed`));
      assert.equal(server.requests(), 2);
    } finally {
      await server.close();
    }
  });
});
