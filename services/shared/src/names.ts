/**
 * Names of every JetStream resource Weft uses, derived from one prefix so that
 * several installations (or test runs) can share a NATS server without clashing.
 */
export interface ResourceNames {
  /** Prefix every name is derived from. */
  readonly prefix: string;
  /** Work-queue stream holding work items, one subject per queue. */
  readonly tasksStream: string;
  /** Limits stream holding job and task events, one subject per job. */
  readonly eventsStream: string;
  /** KV bucket: job records, keyed by job id. */
  readonly jobsBucket: string;
  /**
   * Limits stream listing jobs in the order they were accepted: one message per job,
   * written when it is submitted and never changed, so that listings read it by
   * sequence instead of every key of the jobs bucket.
   */
  readonly jobIndexStream: string;
  /** Subject of the job index stream. */
  readonly jobIndexSubject: string;
  /** KV bucket: job specs, keyed by job id. */
  readonly specsBucket: string;
  /** KV bucket: node results, keyed by `<jobId>.<nodePath>`. */
  readonly resultsBucket: string;
  /** KV bucket: aggregation state (which children are done), keyed like results. */
  readonly stateBucket: string;
  /** KV bucket: live worker heartbeats with a TTL. */
  readonly workersBucket: string;
  /** Object store for values too large for a message. */
  readonly blobsStore: string;
  /** Limits stream for values too large to inline but small enough for one message. */
  readonly valuesStream: string;
  /** Subject of the values stream for values kept for the retention period (job results, specs). */
  readonly valuesSubject: string;
  /**
   * Limits stream for the intermediate values of jobs (task results, group lists,
   * reduce inputs) too large to inline, removed when their job ends: apart from the
   * values kept for the retention period, so that it stays small.
   */
  readonly jobValuesStream: string;
  /** Subject of the job values stream for the intermediate values of job `jobId`. */
  jobValuesSubject(jobId: string): string;
  /** Subject of the job values stream naming the blobs-store objects of job `jobId`'s intermediate values. */
  jobObjectsSubject(jobId: string): string;
  /** Wildcard covering every job's intermediate values and object names. */
  readonly jobValueSubjects: string;
  /** Wildcard covering job `jobId`'s intermediate values and object names. */
  jobValueSubjectsOf(jobId: string): string;
  /** KV bucket: manifests of stored files, keyed by the name in base64url. */
  readonly filesBucket: string;
  /** Limits stream holding the parts of stored files, one subject per upload. */
  readonly fileDataStream: string;
  /** Subject the parts of upload `id` are published on. */
  fileDataSubject(id: string): string;
  /** Wildcard covering every upload's parts. */
  readonly fileDataSubjects: string;
  /** Subject work items for `queue` are published on. */
  taskSubject(queue: string): string;
  /** Wildcard covering every queue's subject. */
  readonly taskSubjects: string;
  /** Durable pull consumer shared by all workers of `queue`. */
  consumerName(queue: string): string;
  /** Subject the events of `jobId` are published on. */
  eventSubject(jobId: string): string;
  /** Wildcard covering every job's events. */
  readonly eventSubjects: string;
  /**
   * Core NATS subject (in no stream) a job's end event is also published on, once its
   * terminal record is stored: what waiting requests listen to, so that they do not
   * receive the job's task events.
   */
  jobEndSubject(jobId: string): string;
  /**
   * Core NATS subject (in no stream) a job's end event is also published on when the
   * job ended before its work did (cancelled, or failed by one of its tasks), so that
   * workers abort the job's tasks still running.
   */
  jobStopSubject(jobId: string): string;
  /** Wildcard covering every job's stop subject. */
  readonly jobStopSubjects: string;
  /** Core NATS subject a KV put on the jobs bucket for `jobId` is published on. */
  jobRecordSubject(jobId: string): string;
  /**
   * Reply subject of write `serial` of `writer` to the record of `jobId`: JetStream
   * sends its acknowledgement there, where both the writer and the job's watchers
   * listen (see `recordAcksOf` and `recordAcksFor`).
   */
  recordAckSubject(jobId: string, writer: string, serial: number): string;
  /** Wildcard covering the acknowledgements of every record write of `jobId`. */
  recordAcksOf(jobId: string): string;
  /** Wildcard covering the acknowledgements of every record write of `writer`. */
  recordAcksFor(writer: string): string;
}

/** Allowed characters for a prefix or queue name: they end up in subjects, streams and buckets. */
export const NAME_PATTERN = /^[a-z0-9][a-z0-9_-]{0,31}$/;

/** Default resource prefix. @default "weft" */
export const DEFAULT_PREFIX = 'weft';

/** Default queue a node runs on when it names none. */
export const DEFAULT_QUEUE = 'default';

/** Subject a write to `key` of KV bucket `bucket` is published on. */
export function kvSubject(bucket: string, key: string): string {
  return `$KV.${bucket}.${key}`;
}

/** Derives every resource name from `prefix`. */
export function resourceNames(prefix: string = DEFAULT_PREFIX): ResourceNames {
  if (!NAME_PATTERN.test(prefix)) {
    throw new RangeError(`invalid resource prefix "${prefix}": expected ${String(NAME_PATTERN)}`);
  }
  const jobs = `${prefix}-jobs`;
  return Object.freeze({
    prefix,
    tasksStream: `${prefix}-tasks`,
    eventsStream: `${prefix}-events`,
    jobsBucket: jobs,
    jobIndexStream: `${prefix}-job-index`,
    jobIndexSubject: `${prefix}.job-index`,
    specsBucket: `${prefix}-specs`,
    resultsBucket: `${prefix}-results`,
    stateBucket: `${prefix}-state`,
    workersBucket: `${prefix}-workers`,
    blobsStore: `${prefix}-blobs`,
    valuesStream: `${prefix}-values`,
    valuesSubject: `${prefix}.values`,
    jobValuesStream: `${prefix}-job-values`,
    jobValuesSubject: (jobId: string) => `${prefix}.values.job.${jobId}.v`,
    jobObjectsSubject: (jobId: string) => `${prefix}.values.job.${jobId}.o`,
    jobValueSubjects: `${prefix}.values.job.>`,
    jobValueSubjectsOf: (jobId: string) => `${prefix}.values.job.${jobId}.>`,
    filesBucket: `${prefix}-files`,
    fileDataStream: `${prefix}-file-data`,
    fileDataSubject: (id: string) => `${prefix}.files.${id}`,
    fileDataSubjects: `${prefix}.files.>`,
    taskSubject: (queue: string) => `${prefix}.tasks.${queue}`,
    taskSubjects: `${prefix}.tasks.>`,
    consumerName: (queue: string) => `${prefix}-q-${queue}`,
    eventSubject: (jobId: string) => `${prefix}.events.${jobId}`,
    eventSubjects: `${prefix}.events.>`,
    jobEndSubject: (jobId: string) => `${prefix}.job-ends.${jobId}`,
    jobStopSubject: (jobId: string) => `${prefix}.job-stops.${jobId}`,
    jobStopSubjects: `${prefix}.job-stops.*`,
    jobRecordSubject: (jobId: string) => kvSubject(jobs, jobId),
    recordAckSubject: (jobId: string, writer: string, serial: number) => `${prefix}.record-acks.${jobId}.${writer}.${serial}`,
    recordAcksOf: (jobId: string) => `${prefix}.record-acks.${jobId}.>`,
    recordAcksFor: (writer: string) => `${prefix}.record-acks.*.${writer}.*`,
  });
}
