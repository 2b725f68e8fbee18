import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, truncateSync, utimesSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { resolveWorkerConfig } from '@weft/shared';
import { Worker } from '@weft/worker';
import type { JobView } from '../../src/index.js';
import { bodyOf, postJson } from '../helpers/http.js';
import { startTestEnv, type TestEnv } from '../helpers/test-env.js';
import { expectedTextStats, expectedWordCount, generateText, linesOf } from './corpus.js';

/** Texts with every edge the splits must handle. */
const TEXTS: Record<string, string> = {
  'corpus/plain.txt': generateText({ lines: 2500, seed: 11 }),
  'corpus/crlf.txt': generateText({ lines: 1500, seed: 12, crlf: true }),
  'corpus/no-newline.txt': generateText({ lines: 1200, seed: 13, noTrailingNewline: true }),
  'corpus/long-line.txt': generateText({ lines: 300, seed: 14, longLineWords: 6000 }),
  'corpus/empty.txt': '',
};
const NAMES = Object.keys(TEXTS).sort();
const ALL = NAMES.map((n) => TEXTS[n] as string);

describe('file jobs', () => {
  let env: TestEnv;
  let dataRoot: string;
  let web: http.Server;
  let webBase: string;

  before(async () => {
    dataRoot = mkdtempSync(path.join(os.tmpdir(), 'weft-volume-'));
    mkdirSync(path.join(dataRoot, 'corpus'));
    for (const name of NAMES) writeFileSync(path.join(dataRoot, name), TEXTS[name] as string);
    writeFileSync(path.join(os.tmpdir(), 'weft-outside.txt'), 'secret\n');
    symlinkSync(path.join(os.tmpdir(), 'weft-outside.txt'), path.join(dataRoot, 'corpus', 'link.txt'));
    web = await serveTexts();
    webBase = `http://127.0.0.1:${(web.address() as AddressInfo).port}`;
    env = await startTestEnv({ config: { filePartBytes: 4096, dataRoot } });
    for (const name of NAMES) {
      const response = await env.app.inject({ method: 'PUT', url: `/v1/files/${name}`, payload: TEXTS[name] as string });
      assert.equal(response.statusCode, 201, response.body);
    }
  });
  after(async () => {
    await env?.close();
    web?.close();
    rmSync(dataRoot, { recursive: true, force: true });
  });

  async function run(spec: unknown): Promise<JobView> {
    const response = await postJson(env.app, '/v1/jobs?wait=60', spec);
    assert.equal(response.statusCode, 200, response.body);
    const job = bodyOf<JobView>(response);
    assert.equal(job.status, 'succeeded', JSON.stringify(job.error));
    return job;
  }

  const wordCount = (input: unknown, split: { splitBytes?: number; chunks?: number } = {}) => ({
    mapReduce: { input, ...split, fanIn: 3, map: { task: 'word-count' }, reduce: { task: 'word-count' } },
  });

  for (const split of [{ splitBytes: 1 }, { splitBytes: 5000 }, { splitBytes: 70_000 }, { chunks: 7 }, {}]) {
    it(`counts words across stored files exactly (${JSON.stringify(split)})`, async () => {
      const job = await run(wordCount({ file: 'corpus/*.txt' }, split));
      assert.deepEqual(job.result, expectedWordCount(ALL));
    });
  }

  for (const split of [{ splitBytes: 3000 }, { chunks: 5 }]) {
    it(`computes text statistics on the shared volume and over HTTP (${JSON.stringify(split)})`, async () => {
      const stats = (input: unknown) => ({ mapReduce: { input, ...split, map: { task: 'text-stats' }, reduce: { task: 'text-stats' } } });
      const expected = expectedTextStats(ALL);
      assert.deepEqual((await run(stats({ path: 'corpus/*.txt' }))).result, expected);
      assert.deepEqual((await run(stats({ url: NAMES.map((n) => `${webBase}/ranged/${n}`) }))).result, expected);
      assert.deepEqual((await run(stats({ url: NAMES.map((n) => `${webBase}/whole/${n}`) }))).result, expected);
    });
  }

  it('finds lines with grep, with file names and line numbers, in order', async () => {
    const job = await run({
      mapReduce: {
        input: { file: ['corpus/crlf.txt', 'corpus/plain.txt'] },
        splitBytes: 2000,
        map: { task: 'grep', args: [{ pattern: 'été\\s+naïve' }] },
        reduce: { task: 'grep', args: [{ pattern: 'été\\s+naïve' }] },
      },
    });
    const expected = ['corpus/crlf.txt', 'corpus/plain.txt'].flatMap((file) =>
      linesOf(TEXTS[file] as string).flatMap((text, i) => (/été\s+naïve/u.test(text) ? [{ file, line: i + 1, text }] : [])),
    );
    assert.ok(expected.length > 5);
    assert.deepEqual(job.result, { matches: expected, count: expected.length });
  });

  it('saves a pipeline result as a text file that downloads over HTTP', async () => {
    const job = await run({
      chain: [
        { mapReduce: { input: { file: 'corpus/plain.txt' }, splitBytes: 4000, map: { task: 'text-stats' }, reduce: { task: 'text-stats' } } },
        { task: 'save', args: [{ name: 'results/stats.txt', format: 'text' }] },
      ],
    });
    const stats = expectedTextStats([TEXTS['corpus/plain.txt'] as string]);
    assert.deepEqual(job.result, stats);
    const file = await env.app.inject({ url: '/v1/files/results/stats.txt' });
    assert.equal(file.statusCode, 200);
    assert.equal(file.body, `words: ${stats.words}\nlines: ${stats.lines}\ndistinctWords: ${stats.distinctWords}\n`);
  });

  it('saves any job result with the save option', async () => {
    const job = await run({ task: 'add', args: [4, 6], save: { name: 'results/sum.json' } });
    assert.equal(job.result, 10);
    assert.equal(job.kind, 'task');
    assert.equal((await env.app.inject({ url: '/v1/files/results/sum.json' })).body, '10\n');
  });

  it('writes a transformed file split by split, in order, and checksums it', async () => {
    const job = await run({
      chain: [
        {
          mapReduce: {
            input: { file: 'corpus/crlf.txt' },
            splitBytes: 3000,
            map: { task: 'transform', args: [{ lowercase: true }] },
            output: 'out/lower.txt',
          },
        },
        { task: 'checksum' },
      ],
    });
    const expected = linesOf(TEXTS['corpus/crlf.txt'] as string).map((l) => `${l.toLowerCase()}\n`).join('');
    const file = await env.app.inject({ url: '/v1/files/out/lower.txt' });
    assert.equal(file.body, expected);
    assert.deepEqual(job.result, {
      file: 'out/lower.txt',
      bytes: Buffer.byteLength(expected),
      sha256: createHash('sha256').update(expected).digest('hex'),
    });
  });

  for (const [input, pointer] of [
    [{ file: 'nope/*.txt' }, '/mapReduce/input/file'],
    [{ file: ['corpus/plain.txt', 'missing.txt'] }, '/mapReduce/input/file/1'],
    [{ path: '../etc/passwd' }, '/mapReduce/input/path'],
    [{ path: '/etc/passwd' }, '/mapReduce/input/path'],
    [{ path: 'corpus/link.txt' }, '/mapReduce/input/path'],
    [{ url: 'http://127.0.0.1:1/x.txt' }, '/mapReduce/input/url'],
    [{ file: 'corpus/[ab.txt' }, '/mapReduce/input/file'],
    [{ path: ['corpus/*.txt', 'corpus/{a,b.txt'] }, '/mapReduce/input/path/1'],
    [{ file: Array.from({ length: 257 }, (_, i) => `corpus/${i}*.txt`) }, '/mapReduce/input/file'],
  ] as const) {
    it(`rejects the input ${JSON.stringify(input)} with 400 at ${pointer}`, async () => {
      const response = await postJson(env.app, '/v1/jobs', wordCount(input));
      assert.equal(response.statusCode, 400, response.body);
      const problem = bodyOf<{ code: string; errors: { pointer: string }[] }>(response);
      assert.ok(['INVALID_FILE_INPUT', 'INVALID_SPEC'].includes(problem.code), problem.code);
      assert.equal(problem.errors[0]?.pointer, pointer);
    });
  }

  it('fails a job whose volume file changed after submission, for light and CPU-bound map tasks', async () => {
    // Submitted to a queue no worker serves yet, so that the file changes before any split is read.
    const queue = 'after-change';
    mkdirSync(path.join(dataRoot, 'changing'));
    const ids: Record<string, string> = {};
    for (const task of ['line-count', 'word-count']) {
      for (const change of ['appended', 'rewritten']) {
        const file = path.join(dataRoot, `changing/${task}-${change}.txt`);
        writeFileSync(file, 'one two\nthree\n');
        const input = { path: path.relative(dataRoot, file) };
        const response = await postJson(env.app, '/v1/jobs', { mapReduce: { input, map: { task }, reduce: { task } }, queue });
        assert.equal(response.statusCode, 202, response.body);
        ids[`${task} ${change}`] = bodyOf<JobView>(response).id;
        if (change === 'appended') {
          appendFileSync(file, 'four\n');
        } else {
          // The same size, other words, written a second later.
          writeFileSync(file, 'ONE TWO\nTHREE\n');
          const later = new Date(Date.now() + 1000);
          utimesSync(file, later, later);
        }
      }
    }
    const late = await Worker.create(
      resolveWorkerConfig({ natsUrl: env.server.url, prefix: env.config.prefix, queues: [queue], threads: 1, dataRoot, logLevel: 'silent' }),
    );
    try {
      for (const [task, id] of Object.entries(ids)) {
        const job = bodyOf<JobView>(await env.app.inject({ method: 'GET', url: `/v1/jobs/${id}?wait=30` }));
        assert.equal(job.status, 'failed', task);
        assert.equal(job.error?.code, 'FILE_CHANGED', `${task}: ${JSON.stringify(job.error)}`);
        assert.match(job.error?.message ?? '', /changed since the job was submitted/);
      }
    } finally {
      await late.close();
    }
  });

  it('fails a job whose URL serves other bytes than it had at submission', async () => {
    // Ranges from the first byte after the first request; the body twice; empty ranges
    // after the first; a size that doubled; fewer bytes than it said at submission.
    // And a new version of the same size after the first request: refused for the
    // entity tag of the first (412), or sent with its own (a server ignoring If-Match).
    for (const mode of ['shifty', 'grows', 'hollow', 'regrown', 'shrinks', 'versions', 'versions-lax']) {
      const input = { url: `${webBase}/${mode}/corpus/plain.txt` };
      const response = await postJson(env.app, '/v1/jobs?wait=60', { mapReduce: { input, splitBytes: 20_000, map: { task: 'line-count' }, reduce: { task: 'line-count' } } });
      const job = bodyOf<JobView>(response);
      assert.equal(job.status, 'failed', mode);
      assert.equal(job.error?.code, 'FILE_CHANGED', `${mode}: ${JSON.stringify(job.error)}`);
    }
  });

  it('reads a URL whose server does not tell its size as one split', async () => {
    const input = { url: `${webBase}/unsized/corpus/plain.txt` };
    const job = await run({ mapReduce: { input, map: { task: 'text-stats' }, reduce: { task: 'text-stats' } } });
    assert.deepEqual(job.result, expectedTextStats([TEXTS['corpus/plain.txt'] as string]));
  });

  it('stops reading a URL that drips at the map task\'s time limit', async () => {
    const spec = { mapReduce: { input: { url: `${webBase}/drip/corpus/plain.txt` }, chunks: 2, map: { task: 'line-count', timeoutMs: 1000 }, reduce: { task: 'line-count' } } };
    const job = bodyOf<JobView>(await postJson(env.app, '/v1/jobs?wait=60', spec));
    assert.equal(job.status, 'failed');
    assert.equal(job.error?.code, 'TASK_TIMEOUT', JSON.stringify(job.error));
  });

  it('refuses splits larger than 512 MiB', async () => {
    const spec = { mapReduce: { input: { path: 'corpus/plain.txt' }, splitBytes: 513 * 1024 * 1024, map: { task: 'line-count' }, reduce: { task: 'line-count' } } };
    const response = await postJson(env.app, '/v1/jobs', spec);
    assert.equal(response.statusCode, 400, response.body);
    assert.deepEqual(bodyOf<{ errors: { pointer: string }[] }>(response).errors.map((e) => e.pointer), ['/mapReduce/splitBytes']);
  });

  it('refuses a split count over the chunk limit before making the splits', async () => {
    // Ten sparse gigabytes: ten thousand million one-byte splits, were they made.
    mkdirSync(path.join(dataRoot, 'huge'));
    writeFileSync(path.join(dataRoot, 'huge', 'sparse.txt'), '');
    truncateSync(path.join(dataRoot, 'huge', 'sparse.txt'), 10_000_000_000);
    for (const cut of [{ splitBytes: 1 }, { chunks: 1_000_000_000 }]) {
      const spec = { mapReduce: { input: { path: 'huge/sparse.txt' }, ...cut, map: { task: 'line-count' }, reduce: { task: 'line-count' } } };
      const response = await postJson(env.app, '/v1/jobs', spec);
      assert.equal(response.statusCode, 413, response.body);
      const problem = bodyOf<{ code: string; limit: string; errors: { pointer: string }[] }>(response);
      assert.equal(problem.code, 'SPEC_LIMIT_EXCEEDED');
      assert.equal(problem.limit, 'maxChunks');
      assert.deepEqual(problem.errors.map((e) => e.pointer), ['/mapReduce']);
    }
  });

  it('never lets a volume glob reach outside the root through a link', async () => {
    const job = await run({ mapReduce: { input: { path: 'corpus/*' }, map: { task: 'line-count' }, reduce: { task: 'line-count' } } });
    assert.equal(job.result, ALL.reduce((n, t) => n + linesOf(t).length, 0));
  });

  it('walks the volume as deep as a pattern reaches, past hidden folders', async () => {
    const lines = (n: number) => 'x\n'.repeat(n);
    for (const [name, count] of [['nested/a.txt', 1], ['nested/b/c.txt', 2], ['nested/b/d/e.txt', 4], ['nested/.hidden/f.txt', 8], ['nested/b/g.csv', 16]] as const) {
      mkdirSync(path.dirname(path.join(dataRoot, name)), { recursive: true });
      writeFileSync(path.join(dataRoot, name), lines(count));
    }
    const count = async (pattern: string) =>
      (await run({ mapReduce: { input: { path: pattern }, map: { task: 'line-count' }, reduce: { task: 'line-count' } } })).result;
    assert.equal(await count('nested/**/*.txt'), 1 + 2 + 4);
    assert.equal(await count('nested/*/*.txt'), 2);
    assert.equal(await count('nested/{*,*/*}.{txt,csv}'), 1 + 2 + 16);
    assert.equal(await count('nested/.hidden/*'), 8);
  });

  it('matches hostile globs against long names without backtracking', async () => {
    // As JavaScript regular expressions, these patterns take hours on these names.
    const name = `redos/${'a'.repeat(60)}`;
    assert.equal((await env.app.inject({ method: 'PUT', url: `/v1/files/${name}`, payload: 'a\n' })).statusCode, 201);
    mkdirSync(path.join(dataRoot, 'redos'));
    writeFileSync(path.join(dataRoot, name), 'a\n');
    for (const input of [{ file: 'redos/+(a*)b' }, { path: 'redos/+(a*)b' }, { file: `redos/${'*a'.repeat(20)}b` }]) {
      const response = await postJson(env.app, '/v1/jobs', wordCount(input));
      assert.equal(response.statusCode, 400, response.body);
      assert.match(bodyOf<{ errors: { message: string }[] }>(response).errors[0]?.message ?? '', /matches/);
    }
  });

  it('refuses a checksum path outside the volume, and fails a file it cannot read at once', async () => {
    const refused = await postJson(env.app, '/v1/jobs', { task: 'checksum', args: [{ path: '../../etc/passwd' }] });
    assert.equal(refused.statusCode, 400, refused.body);
    const problem = bodyOf<{ code: string; errors: { pointer: string }[] }>(refused);
    assert.equal(problem.code, 'INVALID_TASK_ARGS');
    assert.equal(problem.errors[0]?.pointer, '/args/0/path');
    // Missing, a folder, a link out of the volume: none is a file it can read.
    for (const ref of [{ file: 'corpus/missing.txt' }, { path: 'corpus/missing.txt' }, { path: 'corpus' }, { path: 'corpus/link.txt' }]) {
      const response = await postJson(env.app, '/v1/jobs?wait=30', { task: 'checksum', args: [ref], retries: 3, backoffMs: 1000 });
      assert.equal(response.statusCode, 200, response.body);
      const job = bodyOf<JobView>(response);
      assert.equal(job.status, 'failed');
      // Not retried: the file will not appear by trying again.
      assert.deepEqual([job.error?.code, job.error?.attempts], ['FILE_NOT_FOUND', 1], JSON.stringify(job.error));
    }
  });

  it('refuses a URL whose server claims a size no byte offset can reach', async () => {
    const response = await postJson(env.app, '/v1/jobs', wordCount({ url: `${webBase}/huge/corpus/plain.txt` }));
    assert.equal(response.statusCode, 400, response.body);
    const problem = bodyOf<{ code: string; errors: { pointer: string; message: string }[] }>(response);
    assert.equal(problem.code, 'INVALID_FILE_INPUT');
    assert.equal(problem.errors[0]?.pointer, '/mapReduce/input/url');
    assert.match(problem.errors[0]?.message ?? '', /9007199254741002 bytes, which cannot be read/);
  });

  it('refuses resolved inputs from users', async () => {
    const response = await postJson(env.app, '/v1/jobs', wordCount({ files: { sources: [], splits: [] } }));
    assert.equal(response.statusCode, 400);
    assert.equal(bodyOf<{ errors: { pointer: string }[] }>(response).errors[0]?.pointer, '/mapReduce/input/files');
  });
});

/**
 * Serves the texts over HTTP: `/ranged/<name>` honours `Range`, `/whole/<name>` ignores
 * it; `/shifty/<name>` answers every range from the first byte after the first request,
 * `/grows/<name>` sends the text twice once it has told its size, and `/huge/<name>`
 * claims a size beyond 2^53 bytes. `/ranged/<name>` gives an entity tag and honours
 * `If-Match`; `/versions/<name>` is a new version (of the same size) at each request,
 * and `/versions-lax/<name>` too, but ignores `If-Match`.
 */
async function serveTexts(): Promise<http.Server> {
  const requests = new Map<string, number>();
  const server = http.createServer((request, response) => {
    const [, mode, ...rest] = (request.url ?? '').split('/');
    const text = TEXTS[decodeURIComponent(rest.join('/'))];
    if (text === undefined) return void response.writeHead(404).end();
    const bytes = Buffer.from(text);
    const range = /^bytes=(\d+)-(\d+)$/.exec(request.headers.range ?? '');
    const seen = (requests.get(request.url ?? '') ?? 0) + 1;
    requests.set(request.url ?? '', seen);
    if (mode === 'grows' && !range) return void response.end(Buffer.concat([bytes, bytes]));
    if (mode === 'shrinks') return void response.writeHead(200, { 'content-length': seen === 1 ? bytes.length : bytes.length >> 1 }).end(seen === 1 ? bytes : bytes.subarray(0, bytes.length >> 1));
    if (mode === 'unsized' && range) {
      const [start, end] = [Number(range[1]), Math.min(bytes.length - 1, Number(range[2]))];
      return void response.writeHead(206, { 'content-range': `bytes ${start}-${end}/*` }).end(bytes.subarray(start, end + 1));
    }
    if (mode === 'drip' && range && seen > 1) {
      response.writeHead(206, { 'content-range': `bytes ${range[1]}-${Math.min(bytes.length - 1, Number(range[2]))}/${bytes.length}` });
      const timer = setInterval(() => response.write('x'), 200);
      response.on('close', () => clearInterval(timer));
      return;
    }
    if ((mode === 'hollow' || mode === 'regrown') && range && seen > 1 && Number(range[1]) > 0) {
      const [start, end] = [Number(range[1]), Math.min(bytes.length - 1, Number(range[2]))];
      const total = mode === 'regrown' ? bytes.length * 2 : bytes.length;
      return void response.writeHead(206, { 'content-range': `bytes ${start}-${end}/${total}`, 'content-length': 0 }).end();
    }
    if (mode === 'huge') return void response.writeHead(206, { 'content-range': `bytes 0-0/${2 ** 53 + 10}` }).end(bytes.subarray(0, 1));
    if (mode === 'ranged' || mode === 'versions' || mode === 'versions-lax') {
      // One version for `ranged`, a new one for each request otherwise; the same size.
      const version = mode === 'ranged' ? 1 : seen;
      const etag = `"v${version}-${bytes.length}"`;
      if (version > 1) bytes.reverse();
      if (mode !== 'versions-lax' && request.headers['if-match'] !== undefined && request.headers['if-match'] !== etag) {
        return void response.writeHead(412).end();
      }
      response.setHeader('etag', etag);
    }
    if (['ranged', 'shifty', 'hollow', 'regrown', 'drip', 'versions', 'versions-lax'].includes(mode ?? '') && range) {
      const start = mode === 'shifty' && Number(range[2]) > 0 ? 0 : Number(range[1]);
      const end = Math.min(bytes.length - 1, Number(range[2]));
      if (start >= bytes.length) return void response.writeHead(416, { 'content-range': `bytes */${bytes.length}` }).end();
      response.writeHead(206, { 'content-range': `bytes ${start}-${end}/${bytes.length}`, 'content-length': end - start + 1 });
      return void response.end(bytes.subarray(start, end + 1));
    }
    response.writeHead(200, { 'content-length': bytes.length });
    response.end(bytes);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}
