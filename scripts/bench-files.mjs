/**
 * File benchmarks of `npm run bench`: word count over a generated ~100 MB text file
 * (64 splits) from the shared volume and from the file store, beside two
 * single-process baselines (the same task over the whole file, and a straightforward
 * regular-expression program) and the same 64 splits on threads of one process with
 * no NATS, and the file store's upload and download throughput.
 */
import { createReadStream, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { onThreads } from './bench-floor.mjs';

const MB = 1e6;

/** Deterministic pseudo-random numbers (LCG). */
function random(seed) {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/** About `bytes` of text: words of a 30,000-word vocabulary with a Zipf-like spread, some accented. */
export function generateCorpus(bytes) {
  const next = random(42);
  const syllables = ['ka', 'lo', 'mi', 'ne', 'ru', 'sa', 'té', 'vo', 'zi', 'ça', 'ün', 'pe', 'do', 'gri', 'fla', 'ño'];
  const vocabulary = Array.from({ length: 30_000 }, () => {
    let word = '';
    const length = 1 + Math.floor(next() * 4);
    for (let i = 0; i < length; i++) word += syllables[Math.floor(next() * syllables.length)];
    return next() < 0.1 ? word[0].toUpperCase() + word.slice(1) : word;
  });
  // Zipf: the word of rank r has weight 1/r.
  const cumulative = new Float64Array(vocabulary.length);
  let total = 0;
  for (let r = 0; r < vocabulary.length; r++) cumulative[r] = total += 1 / (r + 1);
  const pick = () => {
    const x = next() * total;
    let lo = 0;
    let hi = cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid] < x) lo = mid + 1;
      else hi = mid;
    }
    return vocabulary[lo];
  };
  const lines = [];
  let size = 0;
  while (size < bytes) {
    const words = [];
    const count = 4 + Math.floor(next() * 14);
    for (let i = 0; i < count; i++) words.push(pick());
    const line = `${words.join(' ')}\n`;
    lines.push(line);
    size += Buffer.byteLength(line);
  }
  return lines.join('');
}

function rssOf(pid, field = 'VmRSS') {
  try {
    return Number(new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;
  } catch {
    return 0;
  }
}

function put(url, file) {
  return new Promise((resolve, reject) => {
    const request = http.request(url, { method: 'PUT', headers: { 'content-type': 'text/plain', 'content-length': statSync(file).size } }, (response) => {
      let body = '';
      response.on('data', (c) => (body += c));
      response.on('end', () => (response.statusCode === 201 ? resolve(JSON.parse(body)) : reject(new Error(`upload: ${response.statusCode} ${body}`))));
    });
    request.on('error', reject);
    createReadStream(file).pipe(request);
  });
}

/**
 * Runs the file benchmarks on a running stack whose shared volume is `volume`.
 * @param {{ base: string, volume: string, pids: { name: string, pid: number }[], submit: (base: string, spec: unknown) => Promise<{ job: any }>, runs: number, catalogue: any, sizeBytes?: number }} options
 */
export async function benchFiles({ base, volume, pids, submit, runs, catalogue, sizeBytes = 100 * MB }) {
  const relative = 'bench/words.txt';
  const file = path.join(volume, relative);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, generateCorpus(sizeBytes));
  const bytes = statSync(file).size;

  // A straightforward single-process program: read the file, match words, count in a Map.
  const plainProgram = () => {
    const counts = new Map();
    let total = 0;
    for (const match of readFileSync(file, 'utf8').matchAll(/[\p{L}\p{M}\p{N}]+(?:['’][\p{L}\p{M}\p{N}]+)*/gu)) {
      const word = match[0].toLowerCase();
      counts.set(word, (counts.get(word) ?? 0) + 1);
      total++;
    }
    [...counts].sort((a, b) => b[1] - a[1]);
    return total;
  };

  // The same task over the whole file in this one process.
  const wordCount = catalogue.get('word-count');
  const never = new AbortController().signal;
  const wholeFile = () => wordCount.run([{ file: relative, bytes: readFileSync(file) }], { signal: never, final: true });

  // The same 64 splits on the machine's threads in this process, no NATS: the cores' share.
  const data = readFileSync(file);
  const cuts = [0];
  for (let k = 1; k < 64; k++) {
    const at = data.indexOf(0x0a, Math.floor((bytes * k) / 64) - 1);
    cuts.push(at < 0 ? bytes : at + 1);
  }
  cuts.push(bytes);
  const splits = cuts.slice(0, -1).map((start, k) => ({ path: file, start, end: cuts[k + 1] }));
  const onTheThreads = async () => {
    const { ms, values } = await onThreads({ threads: os.availableParallelism(), task: 'word-count', inputs: splits });
    const t0 = performance.now();
    return { ms: ms + performance.now() - t0, merged: await wordCount.run([values], { signal: never, final: true }) };
  };

  const peak = Object.fromEntries(pids.map((p) => [p.name, 0]));
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      for (const p of pids) peak[p.name] = Math.max(peak[p.name], rssOf(p.pid));
      await sleep(50);
    }
  })();
  let expected;
  const timeJob = async (input) => {
    const t0 = performance.now();
    const { job } = await submit(base, { mapReduce: { input, chunks: 64, map: { task: 'word-count' }, reduce: { task: 'word-count' } } });
    const ms = performance.now() - t0;
    if (job.result.total !== expected.total || job.result.distinct !== expected.distinct) {
      throw new Error(`word count differs: ${JSON.stringify([job.result.total, job.result.distinct])} vs ${JSON.stringify([expected.total, expected.distinct])}`);
    }
    return ms;
  };
  const timed = async (fn) => {
    const t0 = performance.now();
    const value = await fn();
    return { ms: performance.now() - t0, value };
  };
  try {
    const uploads = [];
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      await put(`${base}/v1/files/${relative}`, file);
      uploads.push(performance.now() - t0);
    }

    // In rounds, every way of counting within seconds of the others: a shared machine
    // drifts within minutes.
    const baselines = [];
    const plainRuns = [];
    const threadRuns = [];
    const volumeRuns = [];
    const storeRuns = [];
    let plainTotal;
    for (let i = 0; i < runs; i++) {
      const whole = await timed(wholeFile);
      baselines.push(whole.ms);
      expected = whole.value;
      const threaded = await onTheThreads();
      threadRuns.push(threaded.ms);
      if (threaded.merged.total !== expected.total || threaded.merged.distinct !== expected.distinct) throw new Error('the threads counted different words');
      volumeRuns.push(await timeJob({ path: relative }));
      storeRuns.push(await timeJob({ file: relative }));
      const plain = await timed(plainProgram);
      plainRuns.push(plain.ms);
      plainTotal = plain.value;
    }

    const downloads = [];
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      const response = await fetch(`${base}/v1/files/${relative}`);
      let received = 0;
      for await (const chunk of response.body) received += chunk.byteLength;
      if (received !== bytes) throw new Error(`downloaded ${received} of ${bytes} bytes`);
      downloads.push(performance.now() - t0);
    }
    if (plainTotal !== expected.total) throw new Error(`the plain baseline counted ${plainTotal} words, the task ${expected.total}`);
    // Best of each (the least disturbed run); the runs themselves stay in round order.
    const best = (runs) => Math.min(...runs);
    const medianRound = (runs) => {
      const ratios = baselines.map((b, i) => b / runs[i]).sort((a, b) => a - b);
      return ratios[Math.floor(ratios.length / 2)];
    };
    return {
      bytes,
      words: expected.total,
      distinctWords: expected.distinct,
      splits: 64,
      baselineMs: best(baselines),
      plainBaselineMs: best(plainRuns),
      threadsMs: best(threadRuns),
      volumeMs: best(volumeRuns),
      storeMs: best(storeRuns),
      volumeSpeedup: best(baselines) / best(volumeRuns),
      storeSpeedup: best(baselines) / best(storeRuns),
      medianRoundVolumeSpeedup: medianRound(volumeRuns),
      medianRoundStoreSpeedup: medianRound(storeRuns),
      uploadMBps: bytes / MB / (best(uploads) / 1000),
      downloadMBps: bytes / MB / (best(downloads) / 1000),
      rssPeakBytes: peak,
      runs: { threadsMs: threadRuns, plainBaselineMs: plainRuns, baselineMs: baselines, volumeMs: volumeRuns, storeMs: storeRuns, uploadMs: uploads, downloadMs: downloads },
    };
  } finally {
    sampling = false;
    await sampler;
  }
}
