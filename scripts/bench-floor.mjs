/**
 * Reference points of `npm run bench`, measured beside Weft on the same machine at
 * the same moment (a shared machine drifts between runs, so only side-by-side
 * figures compare):
 *
 *   latency floor   the durable hops of a one-task job and nothing else: HTTP in,
 *                   JetStream publish (acknowledged), pull by a worker process, KV
 *                   create acknowledged to the worker and the waiting API at once
 *                   (as Weft writes a terminal record), HTTP out; no validation, no
 *                   records beyond that one entry, no events
 *   threads         the count-primes chunks, or the word count's splits, on threads
 *                   of one process with no NATS at all: what the CPUs give when
 *                   nothing is distributed
 *
 * Run as a module by scripts/bench.mjs; the floor forks this file again as its API
 * and worker processes (`node bench-floor.mjs api|worker <natsUrl> ...`).
 */
import { fork } from 'node:child_process';
import { statSync } from 'node:fs';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { parentPort, Worker, workerData } from 'node:worker_threads';
import { AckPolicy, jetstream, jetstreamManager, RetentionPolicy } from '@nats-io/jetstream';
import { connect, headers, nuid } from '@nats-io/transport-node';

const self = fileURLToPath(import.meta.url);
const STREAM = 'WEFT_FLOOR_TASKS';
const BUCKET_STREAM = 'KV_weft-floor-records';
const encode = (value) => new TextEncoder().encode(JSON.stringify(value));
const decode = (bytes) => JSON.parse(new TextDecoder().decode(bytes));

/** The worker side: pull, add, store the record (acknowledged to the API too), acknowledge. */
async function runWorker(natsUrl) {
  const nc = await connect({ servers: natsUrl, noAsyncTraces: true });
  const js = jetstream(nc);
  const consumer = await js.consumers.get(STREAM, 'floor');
  const token = nuid.next();
  let stored;
  nc.subscribe(`weft-floor.acks.*.${token}`, { callback: (_err, msg) => stored(msg) });
  const expectNone = headers();
  expectNone.set('Nats-Expected-Last-Subject-Sequence', '0');
  for (;;) {
    const messages = await consumer.fetch({ max_messages: 64, expires: 5000 });
    for await (const msg of messages) {
      const item = decode(msg.data);
      const record = encode({ id: item.id, status: 'succeeded', result: item.args[0] + item.args[1] });
      const ack = new Promise((resolve) => (stored = resolve));
      const reply = `weft-floor.acks.${item.id}.${token}`;
      nc.publish(`$KV.weft-floor-records.${item.id}`, record, { reply, headers: expectNone });
      if (decode((await ack).data).error) throw new Error('the floor record was not stored');
      msg.ack();
    }
  }
}

/** The API side: accept a job, publish it, wait for its stored record, answer. */
async function runApi(natsUrl, port) {
  const nc = await connect({ servers: natsUrl, noAsyncTraces: true });
  const js = jetstream(nc);
  let next = 0;
  const server = http.createServer((request, response) => {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk) => (body += chunk));
    request.on('end', async () => {
      const id = `${process.pid}-${next++}`;
      // The record write and its acknowledgement, in either order.
      let record;
      let acked = false;
      let resolve;
      const ended = new Promise((r) => (resolve = r));
      const writes = nc.subscribe(`$KV.weft-floor-records.${id}`, {
        callback: (_err, msg) => {
          record = msg.data;
          if (acked) resolve(record);
        },
      });
      const acks = nc.subscribe(`weft-floor.acks.${id}.*`, {
        callback: (_err, msg) => {
          acked = !decode(msg.data).error;
          if (acked && record) resolve(record);
        },
      });
      await js.publish('weft-floor.tasks', encode({ id, ...JSON.parse(body) }), { msgID: id });
      await ended;
      writes.unsubscribe();
      acks.unsubscribe();
      response.writeHead(200, { 'content-type': 'application/json', 'content-length': record.byteLength });
      response.end(record);
    });
  });
  server.listen(port, '127.0.0.1', () => process.send?.('ready'));
}

/**
 * Latency of `jobs` sequential one-task jobs through the floor's processes, after
 * `warmupJobs` unmeasured ones (200 unless given), on the nats-server at `natsUrl`
 * (with streams of its own, removed afterwards).
 * @returns percentiles in milliseconds
 */
export async function latencyFloor({ natsUrl, apiPort, jobs, warmupJobs = 200, post }) {
  const nc = await connect({ servers: natsUrl });
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: STREAM, subjects: ['weft-floor.tasks'], retention: RetentionPolicy.Workqueue });
  await jsm.streams.add({ name: BUCKET_STREAM, subjects: ['$KV.weft-floor-records.>'], max_msgs_per_subject: 1, allow_direct: true });
  await jsm.consumers.add(STREAM, { durable_name: 'floor', ack_policy: AckPolicy.Explicit });
  const children = [fork(self, ['worker', natsUrl]), fork(self, ['worker', natsUrl]), fork(self, ['api', natsUrl, String(apiPort)])];
  try {
    await new Promise((resolve, reject) => {
      children[2].once('message', resolve);
      children[2].once('exit', () => reject(new Error('the floor API exited')));
    });
    const url = `http://127.0.0.1:${apiPort}/`;
    for (let i = 0; i < warmupJobs; i++) await post(url, { task: 'add', args: [i, 1] });
    const latencies = [];
    for (let i = 0; i < jobs; i++) {
      const t0 = performance.now();
      const record = JSON.parse(await post(url, { task: 'add', args: [i, 1] }));
      latencies.push(performance.now() - t0);
      if (record.result !== i + 1) throw new Error('the floor added wrong');
    }
    latencies.sort((a, b) => a - b);
    const at = (p) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))];
    return { jobs, p50Ms: at(0.5), p90Ms: at(0.9), p99Ms: at(0.99) };
  } finally {
    for (const child of children) child.kill();
    await jsm.streams.delete(STREAM).catch(() => undefined);
    await jsm.streams.delete(BUCKET_STREAM).catch(() => undefined);
    await nc.close();
  }
}

/**
 * Runs catalogue task `task` over `inputs` on `threads` threads of this process,
 * each taking the next input as soon as it is free (once to warm up, then timed).
 * An input `{ path, start, end }` is that byte range of a file, read on the thread.
 * @returns the wall time of the timed round in milliseconds and its results in input order
 */
export async function onThreads({ threads, task, inputs }) {
  const workers = Array.from({ length: threads }, () => new Worker(self, { argv: ['thread'], workerData: { task } }));
  try {
    await Promise.all(workers.map((w) => new Promise((resolve, reject) => {
      w.once('message', resolve);
      w.once('error', reject);
    })));
    const round = () =>
      new Promise((resolve, reject) => {
        const values = new Array(inputs.length);
        let next = 0;
        let busy = 0;
        const t0 = performance.now();
        const feed = (worker) => {
          if (next < inputs.length) {
            worker.postMessage({ index: next, input: inputs[next] });
            next += 1;
            busy += 1;
          } else if (busy === 0) {
            resolve({ ms: performance.now() - t0, values });
          }
        };
        for (const worker of workers) {
          worker.removeAllListeners('message').removeAllListeners('error');
          worker.on('message', ({ index, value }) => {
            values[index] = value;
            busy -= 1;
            feed(worker);
          });
          worker.once('error', reject);
        }
        for (const worker of workers) feed(worker);
      });
    await round();
    return await round();
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

async function runThread(task) {
  const { openVolumeFile, TaskCatalogue } = await import(new URL('../services/shared/dist/src/index.js', import.meta.url).href);
  const definition = TaskCatalogue.builtin().get(task);
  const readRange = async (file, start, end) => {
    const source = await openVolumeFile(file, { size: statSync(file).size }, file);
    try {
      return await source.read(start, end - start);
    } finally {
      await source.close();
    }
  };
  const never = new AbortController().signal;
  parentPort.on('message', async ({ index, input }) => {
    // A byte range of a file is read here, as a pool thread reads its split.
    const argument = input.path === undefined ? input : { file: input.path, bytes: await readRange(input.path, input.start, input.end) };
    parentPort.postMessage({ index, value: await definition.run([argument], { signal: never, final: false }) });
  });
  parentPort.postMessage({ ready: true });
}

const [role, natsUrl, port] = process.argv.slice(2);
if (role === 'thread') await runThread(workerData.task);
else if (role === 'worker') await runWorker(natsUrl);
else if (role === 'api') await runApi(natsUrl, Number(port));
