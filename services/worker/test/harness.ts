import { randomBytes } from 'node:crypto';
import { DeliverPolicy } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import {
  connectNats,
  decodeWire,
  JobEventSchema,
  JobRecordSchema,
  parseMessage,
  prepareJob,
  provisionInfrastructure,
  publishJob,
  resolveWorkerConfig,
  TaskCatalogue,
  TERMINAL_STATUSES,
  ValueStore,
  type Infrastructure,
  type JobEvent,
  type JobRecord,
  type WorkerConfig,
} from '@weft/shared';
import { startNatsServer, type RunningNatsServer } from '@weft/shared/testing';
import { Worker } from '../src/index.js';

/** A real nats-server, the infrastructure on it, and helpers to run jobs through real workers. */
export interface Harness {
  readonly server: RunningNatsServer;
  readonly nc: NatsConnection;
  readonly infra: Infrastructure;
  readonly values: ValueStore;
  readonly prefix: string;
  workerConfig(overrides?: Partial<Parameters<typeof resolveWorkerConfig>[0]>): WorkerConfig;
  startWorker(overrides?: Partial<Parameters<typeof resolveWorkerConfig>[0]>): Promise<Worker>;
  submit(spec: unknown): Promise<string>;
  /** The job's record as stored now. */
  record(id: string): Promise<JobRecord | undefined>;
  waitForJob(id: string, timeoutMs?: number): Promise<JobRecord & { value?: unknown }>;
  /** The job's stored events, in order. */
  events(jobId: string): Promise<JobEvent[]>;
  /** How many times each node's completion was published, by JSON Pointer, from the job's stored events. */
  completions(jobId: string): Promise<Map<string, number>>;
  close(): Promise<void>;
}

const LIMITS = { maxNodes: 1_000_000, maxDepth: 64, maxChunks: 1_000_000 };

/** Primes below 8,000,000: a `count-primes` task of about a second. */
export const PRIMES_BELOW_8M = 539_777;

/** Starts a nats-server and provisions a fresh prefix on it, with `settings` for the infrastructure and every worker. */
export async function startHarness(settings: Partial<Parameters<typeof resolveWorkerConfig>[0]> = {}): Promise<Harness> {
  const server = await startNatsServer();
  const prefix = `t${randomBytes(4).toString('hex')}`;
  const base = { ...settings, natsUrl: server.url, prefix, logLevel: (process.env.WEFT_TEST_LOG_LEVEL ?? 'silent') as 'silent' };
  const nc = await connectNats(resolveWorkerConfig(base), 'test');
  const infra = await provisionInfrastructure(nc, resolveWorkerConfig(base));
  const values = new ValueStore(infra, 128 * 1024);
  const workers: Worker[] = [];
  const catalogue = TaskCatalogue.builtin();
  const workerConfig = (overrides = {}) =>
    resolveWorkerConfig({ ...base, threads: 2, heartbeatMs: 500, ackWaitMs: 5000, ...overrides });
  const record = async (id: string): Promise<JobRecord | undefined> => {
    const entry = await infra.jobs.get(id);
    return entry?.operation === 'PUT' ? parseMessage(JobRecordSchema, decodeWire(entry.string()), 'record') : undefined;
  };
  const events = async (jobId: string): Promise<JobEvent[]> => {
    const consumer = await infra.js.consumers.get(infra.names.eventsStream, {
      filter_subjects: infra.names.eventSubject(jobId),
      deliver_policy: DeliverPolicy.All,
    });
    const found: JobEvent[] = [];
    const messages = await consumer.fetch({ max_messages: 100_000, expires: 1000 });
    for await (const msg of messages) {
      found.push(parseMessage(JobEventSchema, decodeWire(msg.string()), 'event'));
      if (msg.info.pending === 0) break;
    }
    return found;
  };
  return {
    server,
    nc,
    infra,
    values,
    prefix,
    workerConfig,
    async startWorker(overrides = {}) {
      const worker = await Worker.create(workerConfig(overrides));
      workers.push(worker);
      return worker;
    },
    async submit(spec) {
      const job = await prepareJob(spec, catalogue, LIMITS);
      await publishJob(infra, values, job);
      return job.id;
    },
    record,
    async waitForJob(id, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const current = await record(id);
        if (current && TERMINAL_STATUSES.has(current.status)) {
          return current.result ? { ...current, value: await values.load(current.result) } : current;
        }
        if (Date.now() > deadline) throw new Error(`job ${id} did not finish within ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    events,
    async completions(jobId) {
      const counts = new Map<string, number>();
      for (const event of await events(jobId)) {
        for (const task of event.tasks ?? []) counts.set(task.node, (counts.get(task.node) ?? 0) + 1);
      }
      return counts;
    },
    async close() {
      await Promise.all(workers.map((w) => w.close()));
      await nc.drain();
      await server.stop();
    },
  };
}
