/**
 * How jobs are shown: records from the jobs bucket turned into API views.
 */
import { Readable } from 'node:stream';
import { stringifyJson, type JobRecord, type ValueStore } from '@weft/shared';
import { JobSummarySchema, type JobAccepted, type JobLinks, type JobSummary, type JobView, type JobWarning } from '../schemas.js';
import type { WorkerPresence } from '../workers/worker-presence.js';
import { isTerminal } from './job-records.js';

/** Path of a job's resource. */
export function jobPath(id: string): string {
  return `/v1/jobs/${id}`;
}

/** Links of a job. */
export function jobLinks(id: string): JobLinks {
  const self = jobPath(id);
  return { self, events: `${self}/events` };
}

/** Milliseconds from start (or creation) to finish, when the job is finished. */
function durationOf(record: JobRecord): number | undefined {
  if (record.finishedAt === undefined) return undefined;
  const from = Date.parse(record.startedAt ?? record.createdAt);
  const to = Date.parse(record.finishedAt);
  return Number.isFinite(from) && Number.isFinite(to) ? Math.max(0, to - from) : undefined;
}

/**
 * A full view whose result is sent as the JSON text it is stored as, read as it is
 * sent: a result too large for a message is neither held whole nor decoded.
 */
export class StreamedJobView {
  constructor(
    readonly summary: JobSummary,
    private readonly resultJson: AsyncIterable<Uint8Array>,
  ) {}

  /** The view's JSON text: the summary's members, then `result`. */
  toStream(): Readable {
    const { summary, resultJson } = this;
    const head = stringifyJson(JobSummarySchema.encode(summary));
    return Readable.from(
      (async function* () {
        // The summary is an object with members (an id at least): its text ends in `}`.
        yield `${head.slice(0, -1)},"result":`;
        yield* resultJson;
        yield '}';
      })(),
    );
  }
}

/** Builds job views, loading results from wherever they are stored. */
export class JobViews {
  constructor(
    private readonly values: ValueStore,
    /** Tells the queues no live worker pulls from. */
    private readonly presence: WorkerPresence,
  ) {}

  /** The short view returned right after submission. */
  accepted(record: JobRecord): JobAccepted {
    return {
      id: record.id,
      status: record.status,
      progress: record.progress,
      createdAt: record.createdAt,
      ...this.warnings(record),
      links: jobLinks(record.id),
    };
  }

  /** The view without the result, as in listings. */
  summary(record: JobRecord): JobSummary {
    const { result: _result, tasks: _tasks, queues: _queues, ...rest } = record;
    const durationMs = durationOf(record);
    return { ...rest, ...(durationMs === undefined ? {} : { durationMs }), ...this.warnings(record), links: jobLinks(record.id) };
  }

  /** The `warnings` of a job that has not finished: its queues no live worker pulls from. */
  private warnings(record: JobRecord): { warnings?: JobWarning[] } {
    if (isTerminal(record) || record.queues === undefined) return {};
    const unserved = this.presence.unserved(record.queues);
    if (unserved.length === 0) return {};
    return {
      warnings: unserved.map((queue) => ({
        code: 'NO_LIVE_WORKERS',
        queue,
        message: `no live worker pulls from queue "${queue}": the job's work there waits until one does`,
      })),
    };
  }

  /**
   * The full view: the summary plus the result when the job succeeded. A result
   * stored as plain JSON in the blobs store comes as its text, streamed (see
   * {@link StreamedJobView}); any other is decoded.
   * @throws ValueNotFoundError when the result is no longer stored
   */
  async full(record: JobRecord): Promise<JobView | StreamedJobView> {
    const summary = this.summary(record);
    if (record.status !== 'succeeded' || record.result === undefined) return summary;
    const sendable = await this.values.loadSendable(record.result);
    return 'value' in sendable ? { ...summary, result: sendable.value } : new StreamedJobView(summary, sendable.jsonChunks);
  }
}
