/**
 * The built-in file store, on JetStream: a KV bucket of manifests and a stream of
 * line-aligned parts, each addressable by its sequence number, so that workers read
 * separate splits of a file in parallel without reading what comes before them.
 */
import { createHash } from 'node:crypto';
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import { nuid } from '@nats-io/transport-node';
import { FileChangedError, FileNotFoundError, FileTooLargeError, PreconditionFailedError } from '../errors.js';
import { decodeWire, encodeWire } from '../json-codec.js';
import { parseMessage } from '../messages.js';
import { bucketKeys } from '../nats/bucket-keys.js';
import { isWrongLastSequence } from '../nats/jetstream-errors.js';
import type { ResourceNames } from '../names.js';
import { assertFileName } from './file-names.js';
import { FileManifestSchema, partOffsets, type FileManifest } from './file-manifest.js';
import { lineAlignedParts } from './line-parts.js';
import { jobOfOutputUpload } from './upload-ids.js';

/** Part publications in flight during an upload. */
const UPLOAD_WINDOW = 4;
/** Part reads in flight during a download. */
const READ_WINDOW = 4;
/** Room left in a NATS message for headers, in bytes. */
const MESSAGE_OVERHEAD_BYTES = 16 * 1024;

/** What the file store needs. */
export interface FileStoreDeps {
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  readonly names: ResourceNames;
  /** The manifests bucket. */
  readonly files: KV;
  /** Largest message the server accepts, in bytes (`nc.info.max_payload`). */
  readonly maxPayloadBytes: number;
}

/** Options of {@link FileStore.put}. */
export interface PutFileOptions {
  /** @default "application/octet-stream" */
  readonly contentType?: string;
  /** Largest accepted file, in bytes. @default unlimited */
  readonly maxBytes?: number;
  /**
   * Whether the file of that name as it is (`undefined`: none) may be replaced. Checked
   * before the upload and again as it completes, in the same compare-and-set that
   * stores it: a file that changed meanwhile is not overwritten. @default always
   */
  readonly precondition?: FilePrecondition;
}

/** Whether a stored file (`undefined`: none) is as a conditional change requires. */
export type FilePrecondition = (current: FileManifest | undefined) => boolean;

/** Parts written to an upload: `[stream sequence, bytes]`, and which of them end inside a line. */
export interface UploadedParts {
  readonly parts: [number, number][];
  /** Indices (into `parts`) of parts that end inside a line. */
  readonly cut: number[];
}

/** Options of {@link FileStore.sweep}. */
export interface SweepOptions {
  /** An upload written to more recently than this is kept, in milliseconds. */
  readonly graceMs: number;
  /** Whether job `jobId` may still write or commit the `output` uploads it owns (it has not ended). */
  readonly jobRunning: (jobId: string) => Promise<boolean>;
  /** Now, in milliseconds since the epoch. @default Date.now() */
  readonly now?: number;
}

/** Key of a file's manifest: the name in base64url, which only has characters KV keys allow. */
function manifestKey(name: string): string {
  return Buffer.from(name, 'utf8').toString('base64url');
}

/**
 * Stores, lists, reads and deletes files. Uploads are streamed part by part
 * (memory stays within a few parts), the manifest is written last, and a replaced
 * or deleted file's parts are purged after its manifest is gone.
 */
export class FileStore {
  /** Target size of a part, in bytes. */
  readonly partBytes: number;
  /** Largest part (a longer line is cut), in bytes. */
  readonly maxPartBytes: number;

  constructor(
    private readonly deps: FileStoreDeps,
    /** Target size of a part, in bytes. */
    partBytes: number,
  ) {
    this.maxPartBytes = Math.max(1024, deps.maxPayloadBytes - MESSAGE_OVERHEAD_BYTES);
    this.partBytes = Math.min(partBytes, this.maxPartBytes);
  }

  /**
   * Stores `body` under `name`, replacing any file of that name once complete.
   * @throws InvalidFileNameError, FileTooLargeError, PreconditionFailedError (nothing is stored then)
   */
  async put(name: string, body: AsyncIterable<Uint8Array>, options: PutFileOptions = {}): Promise<FileManifest> {
    assertFileName(name);
    const { precondition } = options;
    if (precondition && !precondition(await this.stat(name))) throw new PreconditionFailedError(name);
    const id = nuid.next();
    const subject = this.deps.names.fileDataSubject(id);
    const hash = createHash('sha256');
    const parts: [number, number][] = [];
    const cut: number[] = [];
    const inFlight: Promise<void>[] = [];
    let size = 0;
    try {
      const limited = limit(body, options.maxBytes ?? Number.POSITIVE_INFINITY);
      for await (const part of lineAlignedParts(limited, this.partBytes, this.maxPartBytes)) {
        const index = parts.length;
        parts.push([0, part.bytes.byteLength]);
        if (part.cut) cut.push(index);
        size += part.bytes.byteLength;
        hash.update(part.bytes);
        const published = this.deps.js.publish(subject, part.bytes).then((ack) => {
          (parts[index] as [number, number])[0] = ack.seq;
        });
        published.catch(() => undefined); // awaited in order below (or settled on failure)
        inFlight.push(published);
        if (inFlight.length >= UPLOAD_WINDOW) await inFlight.shift();
      }
      await Promise.all(inFlight.splice(0));
      const manifest: FileManifest = {
        v: 1,
        name,
        id,
        size,
        contentType: options.contentType ?? 'application/octet-stream',
        sha256: hash.digest('hex'),
        createdAt: new Date().toISOString(),
        parts,
        cut,
      };
      const replaced = await this.swapManifest(name, manifest, precondition);
      // Stored. The replaced file's data goes now: failing that leaves data nothing
      // refers to, never a file whose data is gone.
      if (replaced) await this.purgeData(replaced.id).catch(() => undefined);
      return manifest;
    } catch (err) {
      await Promise.allSettled(inFlight);
      await this.purgeData(id).catch(() => undefined);
      throw err;
    }
  }

  /**
   * Appends `bytes` to upload `id` as line-aligned parts, for a file assembled from
   * pieces written by several workers (see {@link commit}). Upload ids must be
   * subject tokens: letters, digits, `-` and `_`.
   */
  async appendParts(id: string, bytes: Uint8Array): Promise<UploadedParts> {
    const subject = this.deps.names.fileDataSubject(id);
    const written: UploadedParts = { parts: [], cut: [] };
    for await (const part of lineAlignedParts([bytes], this.partBytes, this.maxPartBytes)) {
      const ack = await this.deps.js.publish(subject, part.bytes);
      if (part.cut) written.cut.push(written.parts.length);
      written.parts.push([ack.seq, part.bytes.byteLength]);
    }
    return written;
  }

  /**
   * Makes the given parts of upload `id` the file `name`, replacing any file of that
   * name. The digest is computed by reading the parts back in order.
   */
  async commit(name: string, id: string, uploaded: UploadedParts, contentType: string): Promise<FileManifest> {
    assertFileName(name);
    const size = uploaded.parts.reduce((total, [, bytes]) => total + bytes, 0);
    const draft: FileManifest = { v: 1, name, id, size, contentType, sha256: '0'.repeat(64), createdAt: '', parts: uploaded.parts, cut: uploaded.cut };
    const hash = createHash('sha256');
    for await (const chunk of this.read(draft)) hash.update(chunk);
    const manifest: FileManifest = { ...draft, sha256: hash.digest('hex'), createdAt: new Date().toISOString() };
    const replaced = await this.swapManifest(name, manifest);
    if (replaced && replaced.id !== id) await this.purgeData(replaced.id).catch(() => undefined);
    return manifest;
  }

  /** The manifest of `name`, or `undefined` when there is no such file. */
  async stat(name: string): Promise<FileManifest | undefined> {
    return (await this.entry(name))?.manifest;
  }

  /** The manifest of `name`. @throws FileNotFoundError */
  async require(name: string): Promise<FileManifest> {
    const manifest = await this.stat(name);
    if (!manifest) throw new FileNotFoundError(name);
    return manifest;
  }

  /** Every stored file whose name starts with `prefix`, sorted by name. */
  async list(prefix = ''): Promise<FileManifest[]> {
    // A snapshot of the keys: a live key listing may return a key updated meanwhile twice.
    const keys = await bucketKeys(this.deps.jsm, this.deps.names.filesBucket);
    const manifests = await Promise.all(
      keys
        .map((key) => Buffer.from(key, 'base64url').toString('utf8'))
        .filter((name) => name.startsWith(prefix))
        .map((name) => this.stat(name)),
    );
    return manifests.filter((m): m is FileManifest => m !== undefined).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /**
   * Deletes `name`, if `precondition` (when given) holds for it.
   * @returns whether there was such a file
   * @throws PreconditionFailedError when the precondition does not hold
   */
  async delete(name: string, precondition?: FilePrecondition): Promise<boolean> {
    for (;;) {
      const current = await this.entry(name);
      // No file: nothing to delete, whatever the precondition (RFC 9110 §13.2.1).
      if (!current) return false;
      if (precondition && !precondition(current.manifest)) throw new PreconditionFailedError(name);
      try {
        // The manifest read, not one an upload finishing meanwhile put in its place.
        await this.deps.files.purge(manifestKey(name), { previousSeq: current.revision });
      } catch (err) {
        if (isWrongLastSequence(err)) continue;
        throw err;
      }
      await this.purgeData(current.manifest.id);
      return true;
    }
  }

  /**
   * The bytes `[start, end)` of a stored file, streamed part by part with a few
   * reads ahead. @throws FileChangedError when a part is gone (the file was replaced)
   */
  async *read(manifest: FileManifest, start = 0, end = manifest.size, signal?: AbortSignal): AsyncGenerator<Uint8Array> {
    if (start >= end) return;
    const offsets = partOffsets(manifest);
    const first = upperBound(offsets, start) - 1;
    const ahead: Promise<Uint8Array>[] = [];
    let next = first;
    for (let index = first; index < manifest.parts.length && (offsets[index] as number) < end; index++) {
      while (next < manifest.parts.length && next < index + READ_WINDOW && (offsets[next] as number) < end) {
        ahead.push(this.readPart(manifest, next++));
        ahead.at(-1)?.catch(() => undefined); // awaited in order below
      }
      signal?.throwIfAborted();
      const bytes = await (ahead.shift() as Promise<Uint8Array>);
      const partStart = offsets[index] as number;
      yield bytes.subarray(Math.max(0, start - partStart), Math.min(bytes.byteLength, end - partStart));
    }
  }

  /** The bytes `[start, end)` of a stored file, in one buffer. */
  async readRange(manifest: FileManifest, start: number, end: number, signal?: AbortSignal): Promise<Uint8Array> {
    const out = new Uint8Array(Math.max(0, end - start));
    let at = 0;
    for await (const chunk of this.read(manifest, start, end, signal)) {
      out.set(chunk, at);
      at += chunk.byteLength;
    }
    return out;
  }

  private async readPart(manifest: FileManifest, index: number): Promise<Uint8Array> {
    const [seq, bytes] = manifest.parts[index] as [number, number];
    const msg = await this.deps.jsm.direct.getMessage(this.deps.names.fileDataStream, { seq });
    if (!msg || msg.subject !== this.deps.names.fileDataSubject(manifest.id) || msg.data.byteLength !== bytes) {
      throw new FileChangedError(`part ${index} of file ${JSON.stringify(manifest.name)} is gone; the file was replaced or deleted`);
    }
    return msg.data;
  }

  /**
   * Removes the parts of uploads that no file refers to and that nothing will finish:
   * those of an upload whose process died before writing the manifest, and the
   * `output` pieces of a map-reduce that failed or was cancelled. An upload is left
   * alone until its last part is `graceMs` old, and an `output` upload while its job
   * runs.
   * @returns the ids of the uploads removed
   */
  async sweep(options: SweepOptions): Promise<string[]> {
    const { jsm, names } = this.deps;
    const info = await jsm.streams.info(names.fileDataStream, { subjects_filter: names.fileDataSubjects });
    const prefix = names.fileDataSubject('');
    const uploads = Object.keys(info.state.subjects ?? {}).map((subject) => subject.slice(prefix.length));
    if (uploads.length === 0) return [];
    // Listed after the uploads: a file stored meanwhile is among these.
    const referenced = new Set((await this.list()).map((manifest) => manifest.id));
    const now = options.now ?? Date.now();
    const removed: string[] = [];
    for (const id of uploads) {
      if (referenced.has(id)) continue;
      const last = await jsm.direct.getMessage(names.fileDataStream, { last_by_subj: names.fileDataSubject(id) });
      if (!last || now - last.time.getTime() < options.graceMs) continue;
      const jobId = jobOfOutputUpload(id);
      if (jobId !== undefined && (await options.jobRunning(jobId))) continue;
      await this.purgeData(id);
      removed.push(id);
    }
    return removed;
  }

  private async entry(name: string): Promise<{ manifest: FileManifest; revision: number } | undefined> {
    const entry = await this.deps.files.get(manifestKey(name));
    if (!entry || entry.operation !== 'PUT') return undefined;
    const manifest = parseMessage(FileManifestSchema, decodeWire(entry.string()), 'file manifest');
    return { manifest, revision: entry.revision };
  }

  /**
   * Writes `manifest` with compare-and-set, if `precondition` holds for the one it replaces.
   * @returns the manifest it replaced
   * @throws PreconditionFailedError when the precondition does not hold
   */
  private async swapManifest(name: string, manifest: FileManifest, precondition?: FilePrecondition): Promise<FileManifest | undefined> {
    const key = manifestKey(name);
    const encoded = encodeWire(manifest);
    for (;;) {
      const current = await this.entry(name);
      if (precondition && !precondition(current?.manifest)) throw new PreconditionFailedError(name);
      try {
        if (current) await this.deps.files.update(key, encoded, current.revision);
        else await this.deps.files.create(key, encoded);
        return current?.manifest;
      } catch (err) {
        if (!isWrongLastSequence(err)) throw err;
      }
    }
  }

  private async purgeData(id: string): Promise<void> {
    await this.deps.jsm.streams.purge(this.deps.names.fileDataStream, { filter: this.deps.names.fileDataSubject(id) });
  }
}

/** Passes `source` through, failing once more than `maxBytes` went by. */
async function* limit(source: AsyncIterable<Uint8Array>, maxBytes: number): AsyncGenerator<Uint8Array> {
  let total = 0;
  for await (const chunk of source) {
    total += chunk.byteLength;
    if (total > maxBytes) throw new FileTooLargeError(maxBytes);
    yield chunk;
  }
}

/** Index of the first element greater than `value` in the ascending `sorted`. */
function upperBound(sorted: readonly number[], value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] as number) <= value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
