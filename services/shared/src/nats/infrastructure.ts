import {
  DiscardPolicy,
  RetentionPolicy,
  StorageType,
  jetstream,
  jetstreamManager,
  type JetStreamClient,
  type JetStreamManager,
  type StreamConfig,
  type StreamInfo,
} from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import { Objm, setSha256Backend, type ObjectStore } from '@nats-io/obj';
import type { NatsConnection } from '@nats-io/transport-node';
import type { CommonConfig } from '../config.js';
import { resourceNames, type ResourceNames } from '../names.js';
import { failInterruptedRequests } from './interrupted-requests.js';
import { JetStreamWriter } from './jetstream-writer.js';

/** How long a worker's heartbeat entry lives without being refreshed, in milliseconds. */
export const WORKER_HEARTBEAT_TTL_MS = 30_000;

/**
 * Handles on every JetStream resource Weft uses. Requests of the JetStream, KV and
 * object store clients here (and writes of `writer`) still waiting when the
 * connection is lost or re-established fail at once, as timed out, rather than
 * after their timeout (see `failInterruptedRequests`).
 */
export interface Infrastructure {
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  readonly names: ResourceNames;
  /** Acknowledged writes for hot paths (closed with the connection). */
  readonly writer: JetStreamWriter;
  readonly jobs: KV;
  readonly specs: KV;
  readonly results: KV;
  readonly state: KV;
  readonly workers: KV;
  readonly blobs: ObjectStore;
  /** Manifests of stored files (see `FileStore`). */
  readonly files: KV;
}

const NANOS_PER_MS = 1_000_000;

async function ensureStream(jsm: JetStreamManager, config: Partial<StreamConfig> & { name: string }): Promise<void> {
  try {
    await jsm.streams.info(config.name);
    await jsm.streams.update(config.name, config);
  } catch (err) {
    if (err instanceof Error && /stream not found/i.test(err.message)) {
      await jsm.streams.add(config);
      return;
    }
    throw err;
  }
}

/**
 * Gives an existing bucket's stream the retention it was not created with (a bucket
 * is created with its TTL, and opening it later leaves that as it was). The duplicate
 * window, which may not exceed the maximum age, shrinks with it.
 */
async function retain(jsm: JetStreamManager, info: StreamInfo, maxAgeNanos: number): Promise<void> {
  const { config } = info;
  if (config.max_age === maxAgeNanos) return;
  await jsm.streams.update(config.name, {
    ...config,
    max_age: maxAgeNanos,
    duplicate_window: Math.min(config.duplicate_window, maxAgeNanos),
  });
}

/**
 * Creates (or updates) every stream, bucket and object store Weft needs and opens
 * them. Idempotent: every API replica and worker calls it at start-up, and the
 * settings of the last one started apply: streams are updated to its duplicate
 * window, and streams and buckets to its retention.
 */
export async function provisionInfrastructure(nc: NatsConnection, config: CommonConfig): Promise<Infrastructure> {
  const names = resourceNames(config.prefix);
  const requests = failInterruptedRequests(nc);
  const js = jetstream(requests);
  const jsm = await jetstreamManager(requests);
  const duplicateWindow = config.duplicateWindowMs * NANOS_PER_MS;
  const retentionNanos = config.retentionMs * NANOS_PER_MS;

  await ensureStream(jsm, {
    name: names.tasksStream,
    subjects: [names.taskSubjects],
    retention: RetentionPolicy.Workqueue,
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    duplicate_window: duplicateWindow,
    max_msg_size: -1,
  });
  // Streams whose messages expire with the retention.
  const retained = {
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    max_age: retentionNanos,
    duplicate_window: Math.min(duplicateWindow, retentionNanos),
  };
  await ensureStream(jsm, { name: names.eventsStream, subjects: [names.eventSubjects], ...retained });
  // A job's entry expires with the retention, and its record no sooner: a record
  // lives that long after its last change, which is no earlier than its submission.
  await ensureStream(jsm, { name: names.jobIndexStream, subjects: [names.jobIndexSubject], ...retained });
  // Values too large to inline, read back by sequence number (no object store chunking
  // and hashing). They carry no message ids: the duplicate window is there only because
  // it may not exceed max_age.
  const valueStream = { ...retained, allow_direct: true, max_msg_size: -1 };
  await ensureStream(jsm, { name: names.valuesStream, subjects: [names.valuesSubject], ...valueStream });
  // Intermediate values of jobs, purged by job when it ends (the retention is a backstop).
  await ensureStream(jsm, { name: names.jobValuesStream, subjects: [names.jobValueSubjects], ...valueStream });
  // Parts of stored files: kept until their file is deleted; read by sequence number.
  await ensureStream(jsm, {
    name: names.fileDataStream,
    subjects: [names.fileDataSubjects],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    allow_direct: true,
    max_msg_size: -1,
  });

  const kvm = new Kvm(js);
  const bucket = (name: string, ttlMs: number) => kvm.create(name, { history: 1, ttl: ttlMs, storage: StorageType.File });
  const [jobs, specs, results, state, workers, files] = await Promise.all([
    bucket(names.jobsBucket, config.retentionMs),
    bucket(names.specsBucket, config.retentionMs),
    bucket(names.resultsBucket, config.retentionMs),
    bucket(names.stateBucket, config.retentionMs),
    bucket(names.workersBucket, WORKER_HEARTBEAT_TTL_MS),
    bucket(names.filesBucket, 0),
  ]);
  // Objects are digested with node:crypto instead of the client's portable JavaScript
  // SHA-256, which hashes ~60 MB/s and holds the event loop meanwhile. (A process-wide
  // setting; setting it again is a no-op.)
  setSha256Backend('native');
  // Unlike KV's, the object store's `ttl` is the stream's raw max_age, in nanoseconds.
  const blobs = await new Objm(js).create(names.blobsStore, {
    ttl: retentionNanos,
    storage: StorageType.File,
  });
  await Promise.all(
    [jobs, specs, results, state].map(async (kv) => retain(jsm, (await kv.status()).streamInfo, retentionNanos)),
  );
  await retain(jsm, (await blobs.status()).streamInfo, retentionNanos);
  const writer = await JetStreamWriter.open(nc, names);
  return { nc, js, jsm, names, writer, jobs, specs, results, state, workers, blobs, files };
}
