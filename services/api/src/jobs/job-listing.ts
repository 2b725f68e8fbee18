/**
 * Listing recent jobs, newest first, a page at a time. The job index holds one entry
 * per job in the order jobs were accepted, so a page reads a range of its entries
 * and the records they name, however many jobs are kept.
 */
import type { KV } from '@nats-io/kv';
import { InvalidMessageError, setBounded, type Infrastructure, type JobRecord, type JobStatus } from '@weft/shared';
import { JobIndex, type IndexedJob } from './job-index.js';
import { isTerminal, readJobRecord } from './job-records.js';

/** Records read at once while filtering by status. */
const FILTER_BATCH = 64;

/** Index entries read at once. */
const MAX_WINDOW = 1024;

/** Entries read beyond those needed without a filter, for jobs whose record is gone. */
const WINDOW_SLACK = 8;

/**
 * Most jobs one page looks through: a page costs at most this many index entries
 * and record reads, however many jobs are kept; `next` goes on from there.
 */
export const PAGE_SCAN_LIMIT = 10_000;

/** What to list. */
export interface JobListFilter {
  /** Only jobs in this status. */
  readonly status?: JobStatus | undefined;
  /** Most records to return. */
  readonly limit: number;
  /** Where to go on from: the `next` of the page before. */
  readonly cursor?: string | undefined;
}

/** One page of a listing. */
export interface JobPage {
  /** Newest first. */
  readonly records: JobRecord[];
  /** The cursor of the next page, when older jobs are left to look through. */
  readonly next?: string;
}

/** Pattern of a cursor: the index sequence a page goes on below. */
export const CURSOR_PATTERN = /^[1-9][0-9]{0,15}$/;

/** Options of {@link JobListing}. */
export interface JobListingOptions {
  /** Most jobs one page looks through. @default {@link PAGE_SCAN_LIMIT} */
  readonly scanLimit?: number;
  /** Ended jobs whose status is remembered at most. @default twice `scanLimit` */
  readonly maxRemembered?: number;
}

/** A record to list; a corrupt one is left out rather than failing the listing. */
async function readListedRecord(jobs: KV, key: string): Promise<JobRecord | undefined> {
  try {
    return await readJobRecord(jobs, key);
  } catch (err) {
    if (err instanceof InvalidMessageError) return undefined;
    throw err;
  }
}

/**
 * Lists recent jobs, newest first; a job indexed twice (a repeated submission past
 * the duplicate window) is listed once per page. It remembers the status of the jobs
 * it saw ended: an ended job's record never changes, so a status filter reads again
 * only the jobs that had not ended (and the matches it returns), not the thousands
 * of ended ones it looks through. Listings at the same time share their reads.
 */
export class JobListing {
  /** Statuses of ended jobs, by id, the least recently seen first (a Map iterates in insertion order). */
  private readonly ended = new Map<string, JobStatus>();
  /** Record reads under way, by job id. */
  private readonly reading = new Map<string, Promise<JobRecord | undefined>>();
  private readonly index: JobIndex;
  private readonly scanLimit: number;
  private readonly maxRemembered: number;

  constructor(
    private readonly infra: Pick<Infrastructure, 'js' | 'jsm' | 'jobs' | 'names'>,
    options: JobListingOptions = {},
  ) {
    this.index = new JobIndex(infra);
    this.scanLimit = options.scanLimit ?? PAGE_SCAN_LIMIT;
    this.maxRemembered = options.maxRemembered ?? 2 * this.scanLimit;
  }

  /**
   * The most recent jobs matching `filter` submitted before its cursor, newest first,
   * among at most `scanLimit`.
   * @throws RangeError when the cursor is malformed (the route validates it first)
   */
  async list(filter: JobListFilter): Promise<JobPage> {
    const { first, last } = await this.index.bounds();
    let top = last;
    if (filter.cursor !== undefined) {
      if (!CURSOR_PATTERN.test(filter.cursor)) throw new RangeError(`invalid cursor "${filter.cursor}"`);
      top = Math.min(last, Number(filter.cursor) - 1);
    }
    const floor = Math.max(first, top - this.scanLimit + 1);
    const found: JobRecord[] = [];
    const listed = new Set<string>();
    // Without a filter, a window holds what is still needed and a little more; it
    // doubles each time it comes back short (entries whose record is gone).
    let window = filter.status === undefined ? filter.limit + WINDOW_SLACK : MAX_WINDOW;
    while (top >= floor) {
      const from = Math.max(floor, top - window + 1);
      const stop = await this.scan(await this.index.read(from, top), filter, found, listed);
      if (stop !== undefined) return stop > first ? { records: found, next: String(stop) } : { records: found };
      top = from - 1;
      window = Math.min(MAX_WINDOW, 2 * window);
    }
    return floor > first ? { records: found, next: String(floor) } : { records: found };
  }

  /** A job's record, read once for all the listings that want it at the same time. */
  private read(id: string): Promise<JobRecord | undefined> {
    let reading = this.reading.get(id);
    if (reading === undefined) {
      reading = readListedRecord(this.infra.jobs, id).finally(() => this.reading.delete(id));
      this.reading.set(id, reading);
    }
    return reading;
  }

  /**
   * Adds the matches among `entries` (newest first) to `found`, up to the limit.
   * @returns the sequence of the entry that reached the limit, if one did
   */
  private async scan(entries: readonly IndexedJob[], filter: JobListFilter, found: JobRecord[], listed: Set<string>): Promise<number | undefined> {
    const batch = filter.status === undefined ? filter.limit : FILTER_BATCH;
    for (let i = 0; i < entries.length; ) {
      // Read at once: up to `batch` records, no more sure matches than are still
      // needed, and none of a job known to have ended in another status.
      const candidates: IndexedJob[] = [];
      for (let sure = 0; i < entries.length && candidates.length < batch && sure < filter.limit - found.length; i++) {
        const entry = entries[i] as IndexedJob;
        const ended = this.ended.get(entry.id);
        if (listed.has(entry.id) || (filter.status !== undefined && ended !== undefined && ended !== filter.status)) continue;
        candidates.push(entry);
        if (filter.status === undefined || ended === filter.status) sure += 1;
      }
      const records = await Promise.all(candidates.map((entry) => this.read(entry.id)));
      for (const [k, record] of records.entries()) {
        // Not created yet, gone (its retention passed) or never created (its submission failed).
        if (record === undefined) continue;
        if (isTerminal(record)) setBounded(this.ended, record.id, record.status, this.maxRemembered);
        if (listed.has(record.id) || (filter.status !== undefined && record.status !== filter.status)) continue;
        found.push(record);
        listed.add(record.id);
        if (found.length === filter.limit) return (candidates[k] as IndexedJob).seq;
      }
    }
    return undefined;
  }
}
