import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { apiConfigFromEnv } from '@weft/shared';
import { bodyOf } from '../helpers/http.js';
import { startTestEnv, type TestEnv } from '../helpers/test-env.js';
import { generateText } from './corpus.js';

/** Uploads `body` under `name` (already URL-encoded where needed). */
function upload(env: TestEnv, name: string, body: string | Buffer, contentType = 'text/plain'): Promise<LightMyRequestResponse> {
  return env.app.inject({ method: 'PUT', url: `/v1/files/${name}`, headers: { 'content-type': contentType }, payload: body });
}

describe('file store API', () => {
  let env: TestEnv;
  before(async () => {
    // Small parts and a small limit, so that short texts span many parts.
    env = await startTestEnv({ worker: false, config: { filePartBytes: 4096, fileMaxBytes: 1024 * 1024 } });
  });
  after(async () => {
    await env?.close();
  });

  it('stores, lists, downloads and deletes a file cut into many parts', async () => {
    const text = generateText({ lines: 3000, seed: 1, longLineWords: 2000 });
    const put = await upload(env, 'logs/2026/a.txt', text);
    assert.equal(put.statusCode, 201, put.body);
    const info = bodyOf<{ name: string; size: number; sha256: string; parts: number }>(put);
    assert.equal(info.name, 'logs/2026/a.txt');
    assert.equal(info.size, Buffer.byteLength(text));
    assert.equal(info.sha256, createHash('sha256').update(text).digest('hex'));
    assert.ok(info.parts > 10, `expected many parts, got ${info.parts}`);
    assert.equal(put.headers.location, '/v1/files/logs/2026/a.txt');

    const list = bodyOf<{ files: { name: string }[] }>(await env.app.inject({ url: '/v1/files?prefix=logs/' }));
    assert.deepEqual(list.files.map((f) => f.name), ['logs/2026/a.txt']);

    const get = await env.app.inject({ url: '/v1/files/logs/2026/a.txt' });
    assert.equal(get.statusCode, 200);
    assert.equal(get.body, text);
    assert.equal(get.headers['accept-ranges'], 'bytes');
    assert.equal(get.headers.etag, `"${info.sha256}"`);
    // Served from the API's origin, an upload must not be sniffed or run by a browser.
    assert.equal(get.headers['x-content-type-options'], 'nosniff');
    assert.equal(get.headers['content-security-policy'], 'sandbox');

    // Many clients send a JSON content type with every request, bodies or not.
    const del = await env.app.inject({ method: 'DELETE', url: '/v1/files/logs/2026/a.txt', headers: { 'content-type': 'application/json' } });
    assert.equal(del.statusCode, 204);
    const gone = await env.app.inject({ url: '/v1/files/logs/2026/a.txt' });
    assert.equal(gone.statusCode, 404);
    assert.equal(bodyOf(gone).code, 'FILE_NOT_FOUND');
    assert.equal((await env.app.inject({ method: 'DELETE', url: '/v1/files/logs/2026/a.txt' })).statusCode, 404);
  });

  it('answers Range requests across part boundaries, and HEAD with the real length', async () => {
    const text = generateText({ lines: 2000, seed: 2 });
    const bytes = Buffer.from(text);
    assert.equal((await upload(env, 'r.txt', text)).statusCode, 201);
    for (const [header, start, end] of [
      ['bytes=0-0', 0, 1],
      ['bytes=4000-9000', 4000, 9001],
      ['bytes=10000-', 10000, bytes.length],
      ['bytes=-100', bytes.length - 100, bytes.length],
      [`bytes=5-${bytes.length + 50}`, 5, bytes.length],
    ] as const) {
      const response = await env.app.inject({ url: '/v1/files/r.txt', headers: { range: header } });
      assert.equal(response.statusCode, 206, header);
      assert.equal(response.headers['content-range'], `bytes ${start}-${end - 1}/${bytes.length}`);
      assert.deepEqual(response.rawPayload, bytes.subarray(start, end), header);
    }
    const beyond = await env.app.inject({ url: '/v1/files/r.txt', headers: { range: `bytes=${bytes.length}-` } });
    assert.equal(beyond.statusCode, 416);
    assert.equal(bodyOf(beyond).code, 'RANGE_NOT_SATISFIABLE');
    assert.equal(beyond.headers['content-range'], `bytes */${bytes.length}`);
    // A last position before the first is no range at all: the whole file.
    const reversed = await env.app.inject({ url: '/v1/files/r.txt', headers: { range: 'bytes=9-5' } });
    assert.equal(reversed.statusCode, 200);
    assert.deepEqual(reversed.rawPayload, bytes);
    // If-Range: the range only while the file is the one the client has part of.
    const etag = beyond.headers.etag ?? (await env.app.inject({ method: 'HEAD', url: '/v1/files/r.txt' })).headers.etag;
    const same = await env.app.inject({ url: '/v1/files/r.txt', headers: { range: 'bytes=0-9', 'if-range': String(etag) } });
    assert.equal(same.statusCode, 206);
    const replaced = await env.app.inject({ url: '/v1/files/r.txt', headers: { range: 'bytes=0-9', 'if-range': '"an older version"' } });
    assert.equal(replaced.statusCode, 200);
    assert.deepEqual(replaced.rawPayload, bytes);
    assert.equal((await upload(env, 'empty.txt', '')).statusCode, 201);
    const suffixOfNothing = await env.app.inject({ url: '/v1/files/empty.txt', headers: { range: 'bytes=-5' } });
    assert.equal(suffixOfNothing.statusCode, 416);
    assert.equal(suffixOfNothing.headers['content-range'], 'bytes */0');
    const head = await env.app.inject({ method: 'HEAD', url: '/v1/files/r.txt' });
    assert.equal(head.statusCode, 200);
    assert.equal(head.headers['content-length'], String(bytes.length));
    assert.equal(head.body, '');
  });

  it('replaces a file of the same name and keeps unicode names', async () => {
    assert.equal((await upload(env, 'caf%C3%A9/notes.txt', 'one\n')).statusCode, 201);
    assert.equal((await upload(env, 'caf%C3%A9/notes.txt', 'two\nthree\n')).statusCode, 201);
    const get = await env.app.inject({ url: '/v1/files/caf%C3%A9/notes.txt' });
    assert.equal(get.body, 'two\nthree\n');
    const list = bodyOf<{ files: { name: string }[] }>(await env.app.inject({ url: '/v1/files' }));
    assert.equal(list.files.filter((f) => f.name === 'café/notes.txt').length, 1);
  });

  it('evaluates conditional requests: 304 for a file the client has, 412 for a change that must not go ahead', async () => {
    const name = 'cond/a.txt';
    const first = bodyOf<{ sha256: string }>(await upload(env, name, 'one\n'));
    const etag = `"${first.sha256}"`;
    const get = (headers: Record<string, string>) => env.app.inject({ url: `/v1/files/${name}`, headers });
    const lastModified = (await get({})).headers['last-modified'] as string;

    const unchanged = await get({ 'if-none-match': `"other", ${etag}` });
    assert.equal(unchanged.statusCode, 304);
    assert.equal(unchanged.body, '');
    assert.equal(unchanged.headers.etag, etag);
    assert.equal((await get({ 'if-none-match': 'W/' + etag })).statusCode, 304, 'If-None-Match compares weakly');
    assert.equal((await get({ 'if-modified-since': lastModified })).statusCode, 304);
    assert.equal((await get({ 'if-none-match': '"other"', 'if-modified-since': lastModified })).statusCode, 200, 'If-None-Match wins');
    assert.equal((await get({ 'if-match': etag })).statusCode, 200);
    const mismatch = await get({ 'if-match': '"other"' });
    assert.equal(mismatch.statusCode, 412);
    assert.equal(bodyOf<{ code: string }>(mismatch).code, 'PRECONDITION_FAILED');
    assert.equal((await get({ 'if-unmodified-since': new Date(Date.parse(lastModified) - 60_000).toUTCString() })).statusCode, 412);

    const put = (body: string, headers: Record<string, string>) =>
      env.app.inject({ method: 'PUT', url: `/v1/files/${name}`, headers: { 'content-type': 'text/plain', ...headers }, payload: body });
    // Create-only, and replace-only-this-version.
    assert.equal((await put('two\n', { 'if-none-match': '*' })).statusCode, 412);
    assert.equal((await put('two\n', { 'if-match': '"other"' })).statusCode, 412);
    assert.equal((await get({})).body, 'one\n', 'a refused upload changed the file');
    const replaced = await put('two\n', { 'if-match': etag });
    assert.equal(replaced.statusCode, 201);
    assert.equal((await put('three\n', { 'if-match': etag })).statusCode, 412, 'the old version is gone');
    assert.equal((await env.app.inject({ method: 'PUT', url: '/v1/files/cond/new.txt', headers: { 'if-none-match': '*' }, payload: 'new\n' })).statusCode, 201);

    const del = (headers: Record<string, string>) => env.app.inject({ method: 'DELETE', url: `/v1/files/${name}`, headers });
    assert.equal((await del({ 'if-match': etag })).statusCode, 412);
    assert.equal((await del({ 'if-match': `"${bodyOf<{ sha256: string }>(replaced).sha256}"` })).statusCode, 204);
    assert.equal((await del({})).statusCode, 404);
    assert.equal((await del({ 'if-match': etag })).statusCode, 404, 'no file: its preconditions do not count');
    assert.equal((await env.app.inject({ method: 'DELETE', url: '/v1/files/cond/new.txt' })).statusCode, 204);
  });

  it('refuses a partial upload (Content-Range) with 400', async () => {
    const response = await env.app.inject({
      method: 'PUT',
      url: '/v1/files/partial.txt',
      headers: { 'content-type': 'text/plain', 'content-range': 'bytes 10-14/100' },
      payload: 'hello',
    });
    assert.equal(response.statusCode, 400);
    const problem = bodyOf<{ code: string; errors: { pointer: string }[] }>(response);
    assert.equal(problem.code, 'INVALID_REQUEST');
    assert.equal(problem.errors[0]?.pointer, '/headers/content-range');
    assert.equal((await env.app.inject({ url: '/v1/files/partial.txt' })).statusCode, 404);
  });

  it('takes any media type, and refuses a Content-Type that is none with 415', async () => {
    const typed = await env.app.inject({ method: 'PUT', url: '/v1/files/typed.html', headers: { 'content-type': 'text/html; charset=utf-8' }, payload: '<p>' });
    assert.equal(typed.statusCode, 201, typed.body);
    assert.equal((await env.app.inject({ url: '/v1/files/typed.html' })).headers['content-type'], 'text/html; charset=utf-8');
    for (const contentType of ['foo', ';', 'text/plain,text/html']) {
      const response = await env.app.inject({ method: 'PUT', url: '/v1/files/bad-type.txt', headers: { 'content-type': contentType }, payload: 'x' });
      assert.equal(response.statusCode, 415, contentType);
      const problem = bodyOf<{ code: string; detail: string }>(response);
      assert.equal(problem.code, 'UNSUPPORTED_MEDIA_TYPE');
      assert.match(problem.detail, /is not a media type/);
    }
    assert.equal((await env.app.inject({ url: '/v1/files/bad-type.txt' })).statusCode, 404);
  });

  it('stores empty files', async () => {
    const put = await upload(env, 'empty.txt', '');
    assert.equal(put.statusCode, 201, put.body);
    assert.equal(bodyOf(put).size, 0);
    const get = await env.app.inject({ url: '/v1/files/empty.txt' });
    assert.equal(get.statusCode, 200);
    assert.equal(get.body, '');
  });

  for (const [name, why] of [
    ['..%2Fetc%2Fpasswd', 'traversal'],
    ['a%2F..%2F..%2Fb', 'traversal in the middle'],
    ['%2Fabs', 'absolute'],
    ['a//b', 'empty segment'],
    ['bad%01name', 'control character'],
    ['back%5Cslash', 'backslash'],
    ['x'.repeat(600), 'too long'],
  ] as const) {
    it(`rejects a bad name (${why}) with 400 INVALID_FILE_NAME`, async () => {
      const response = await upload(env, name, 'x\n');
      assert.equal(response.statusCode, 400, response.body);
      assert.match(response.headers['content-type'] as string, /^application\/problem\+json/);
      const problem = bodyOf<{ code: string; errors: { pointer: string }[] }>(response);
      assert.equal(problem.code, 'INVALID_FILE_NAME');
      assert.equal(problem.errors[0]?.pointer, '/name');
    });
  }

  it('refuses a file over the limit with 413 and stores nothing', async () => {
    const response = await upload(env, 'big.bin', Buffer.alloc(1024 * 1024 + 1, 0x61));
    assert.equal(response.statusCode, 413, response.body);
    assert.equal(bodyOf(response).code, 'FILE_TOO_LARGE');
    assert.equal((await env.app.inject({ url: '/v1/files/big.bin' })).statusCode, 404);
  });
});

describe('URL inputs turned off', () => {
  let env: TestEnv;
  before(async () => {
    env = await startTestEnv({ worker: false, config: { urlInputs: false } });
  });
  after(async () => {
    await env?.close();
  });

  it('refuses {"url": …} inputs with 400 INVALID_FILE_INPUT', async () => {
    const response = await env.app.inject({
      method: 'POST',
      url: '/v1/jobs',
      headers: { 'content-type': 'application/json' },
      payload: { mapReduce: { input: { url: 'http://127.0.0.1:1/x.txt' }, map: { task: 'line-count' }, reduce: { task: 'line-count' } } },
    });
    assert.equal(response.statusCode, 400, response.body);
    const problem = bodyOf<{ code: string; errors: { pointer: string }[] }>(response);
    assert.equal(problem.code, 'INVALID_FILE_INPUT');
    assert.equal(problem.errors[0]?.pointer, '/mapReduce/input/url');
  });

  it('reads the setting from WEFT_URL_INPUTS', () => {
    assert.equal(apiConfigFromEnv({ WEFT_URL_INPUTS: 'false' }).urlInputs, false);
    assert.equal(apiConfigFromEnv({}).urlInputs, true);
    assert.throws(() => apiConfigFromEnv({ WEFT_URL_INPUTS: 'perhaps' }), { code: 'INVALID_CONFIG' });
  });
});
