/**
 * Listing benchmark of `npm run bench`: `GET /v1/jobs` with many jobs kept. The jobs
 * are written straight to the stack's NATS (a record and an index entry each, as a
 * submission leaves them, one in 1,000 `running`), since submitting them one by one
 * would take minutes; then pages are read through the API over HTTP.
 */
import { jetstream } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';

/** Writes at once, waiting for their acknowledgements together. */
const WRITE_BATCH = 2000;

/**
 * @param {{ base: string, natsUrl: string, jobs: number, runs: number }} options
 *   `base`: the API's URL; `natsUrl`: its NATS server; `jobs`: how many to add
 */
export async function benchListing({ base, natsUrl, jobs, runs }) {
  const { encodeWire, newJobId, resourceNames } = await import(new URL('../services/shared/dist/src/index.js', import.meta.url).href);
  // The stack's own prefix: it inherits WEFT_PREFIX from this process.
  const names = resourceNames(process.env.WEFT_PREFIX || undefined);
  const nc = await connect({ servers: natsUrl });
  const started = performance.now();
  try {
    const js = jetstream(nc);
    for (let n = 0; n < jobs; ) {
      const writes = [];
      for (let i = 0; i < WRITE_BATCH && n < jobs; i++, n++) {
        const now = new Date();
        const id = newJobId(now.getTime());
        const status = n % 1000 === 999 ? 'running' : 'succeeded';
        const record = { id, status, kind: 'task', createdAt: now.toISOString(), progress: { done: 1, total: 1 }, result: { v: n } };
        writes.push(js.publish(names.jobIndexSubject, encodeWire({ id }), { msgID: `${id}:index` }));
        writes.push(js.publish(`$KV.${names.jobsBucket}.${id}`, encodeWire(record)));
      }
      await Promise.all(writes);
    }
  } finally {
    await nc.close();
  }
  const writeMs = performance.now() - started;

  /**
   * Milliseconds each of `count` GETs of `url` took, in order; the first may differ.
   * Each page must hold `expected` jobs and have a next page.
   */
  const time = async (url, count, expected) => {
    const ms = [];
    for (let i = 0; i < count; i++) {
      const t0 = performance.now();
      const res = await fetch(`${base}${url}`);
      const body = await res.json();
      ms.push(performance.now() - t0);
      if (!res.ok || body.jobs?.length !== expected || typeof body.next !== 'string') {
        throw new Error(`GET ${url}: ${res.status} ${JSON.stringify(body).slice(0, 300)}`);
      }
    }
    return ms;
  };
  const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
  // First: the first status-filtered page reads the records of the 10,000 jobs it looks
  // through, and the API remembers those that ended, so later pages read fewer.
  const [firstFiltered, ...filtered] = await time('/v1/jobs?status=running&limit=50', runs + 1, 10);
  const recent = await time('/v1/jobs?limit=50', runs, 50);
  const large = await time('/v1/jobs?limit=500', runs, 500);
  return {
    jobs,
    writeMs,
    recentMedianMs: median(recent),
    largeMedianMs: median(large),
    firstFilteredMs: firstFiltered,
    filteredMedianMs: median(filtered),
  };
}
