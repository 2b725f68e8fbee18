import type { ObjectInfo, ObjectStore } from '@nats-io/obj';
import { ValueNotFoundError, ValueTooLargeError } from '../errors.js';
import { decodeWireBytes, encodeWire, encodeWireBytes, WireBytes } from '../json-codec.js';
import type { StoredValue } from '../messages.js';
import type { Infrastructure } from './infrastructure.js';
import { openObjectChunks } from './object-chunks.js';
import { wireToJson } from '../wire-to-json.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Object metadata of a spilled value whose wire text is plain JSON: it holds no `$`,
 * so no big-integer envelope nor escaped key, and is exactly the value's JSON.
 */
const PLAIN_JSON_METADATA_KEY = 'weft-plain-json';

const DOLLAR = 0x24;

/** A stored value as it can be sent: the value, or its JSON text in chunks, read as they are sent. */
export type SendableValue = { readonly value: unknown } | { readonly jsonChunks: AsyncIterable<Uint8Array> };

/** Options of {@link ValueStore.store}. */
export interface StoreOptions {
  /** Largest value kept inline, in bytes. @default the store's `inlineMaxBytes` */
  readonly inlineMaxBytes?: number;
  /**
   * The job the value is an intermediate of (a task's result, a group's list, a reduce
   * input): spilled, it is removed with the job's others by {@link discardJobValues}.
   * Without it, a spilled value is kept for the retention period.
   */
  readonly job?: string;
}

/** Room left in a message for headers, in bytes. */
const MESSAGE_OVERHEAD_BYTES = 16 * 1024;

/**
 * Keeps values small enough for NATS messages and KV entries: a value whose encoding
 * exceeds `inlineMaxBytes` is written elsewhere and passed around by reference — as
 * one message of the values stream (read back with one direct get) when it fits in
 * a message, else as an object of the blobs store.
 */
export class ValueStore {
  /** Largest value stored as one message, in bytes. */
  private readonly messageMaxBytes: number;

  constructor(
    private readonly infra: Pick<Infrastructure, 'nc' | 'writer' | 'jsm' | 'names' | 'blobs'>,
    /** Largest value kept inline, in bytes. */
    readonly inlineMaxBytes: number,
    /** Largest value stored at all, encoded, in bytes. @default no limit but the encoding's */
    readonly maxBytes: number = Number.POSITIVE_INFINITY,
  ) {
    this.messageMaxBytes = (infra.nc.info?.max_payload ?? 1024 * 1024) - MESSAGE_OVERHEAD_BYTES;
  }

  private get blobs(): ObjectStore {
    return this.infra.blobs;
  }

  /**
   * Wraps `value` for a message or KV entry, spilling it (under `name` in the object
   * store, when it goes there) once its encoding is larger than `inlineMaxBytes`.
   * @throws ValueTooLargeError when its encoding is larger than `maxBytes`, or cannot be made
   */
  async store(value: unknown, name: string, options: StoreOptions = {}): Promise<StoredValue> {
    const { inlineMaxBytes = this.inlineMaxBytes, job } = options;
    if (value instanceof WireBytes) {
      if (value.bytes.byteLength <= inlineMaxBytes) return { v: decodeWireBytes(value.bytes) };
      return this.spill(value.bytes, name, job);
    }
    const text = encodeWire(value);
    // UTF-8 takes one to three bytes per UTF-16 code unit: the bytes are only counted
    // (without encoding) when the text is near the limit, and encoded once.
    if (text.length * 3 <= inlineMaxBytes || (text.length <= inlineMaxBytes && Buffer.byteLength(text) <= inlineMaxBytes)) {
      return { v: value };
    }
    return this.spill(encoder.encode(text), name, job);
  }

  private async spill(bytes: Uint8Array, name: string, job: string | undefined): Promise<StoredValue> {
    if (bytes.byteLength > this.maxBytes) {
      throw new ValueTooLargeError(`a value of ${bytes.byteLength} bytes is larger than the ${this.maxBytes} bytes a stored value may take (WEFT_MAX_VALUE_BYTES)`);
    }
    const { names, writer } = this.infra;
    if (bytes.byteLength <= this.messageMaxBytes) {
      if (job === undefined) return { seq: (await writer.publish(names.valuesSubject, bytes)).seq, bytes: bytes.byteLength };
      return { seq: (await writer.publish(names.jobValuesSubject(job), bytes)).seq, bytes: bytes.byteLength, job: true };
    }
    // The object is named on the job's subject first: removed with the job, it cannot be missed.
    if (job !== undefined) await writer.publish(names.jobObjectsSubject(job), encoder.encode(name));
    const plain = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).indexOf(DOLLAR) === -1;
    await this.blobs.putBlob({ name, ...(plain ? { metadata: { [PLAIN_JSON_METADATA_KEY]: 'true' } } : {}) }, bytes);
    return { ref: name, bytes: bytes.byteLength };
  }

  /** Resolves a stored value back to the value. @throws ValueNotFoundError when it is gone */
  async load(stored: StoredValue): Promise<unknown> {
    if ('v' in stored) return stored.v;
    return decodeWireBytes(await this.fetch(stored));
  }

  /**
   * Resolves a stored value for sending as JSON. A value in the blobs store comes as
   * JSON text, read chunk by chunk as it is sent (a result of hundreds of megabytes is
   * neither held whole nor decoded): as it was written when it is plain JSON, else
   * rewritten as it streams by (see {@link wireToJson}). Any other is loaded.
   * Missing chunks are found before this resolves; the chunks throw when one is gone
   * meanwhile or they do not add up (see {@link openObjectChunks}).
   * @throws ValueNotFoundError when it is gone
   */
  async loadSendable(stored: StoredValue): Promise<SendableValue> {
    if (!('ref' in stored)) return { value: await this.load(stored) };
    const info = await this.blobInfo(stored.ref);
    const chunks = await openObjectChunks(this.infra.jsm, info);
    return { jsonChunks: info.metadata?.[PLAIN_JSON_METADATA_KEY] === 'true' ? chunks : wireToJson(chunks) };
  }

  /**
   * A stored value in the wire format, without decoding it, as bytes whose buffer
   * holds nothing else: sending them to another thread copies just them.
   * @throws ValueNotFoundError when it is gone
   */
  async loadWire(stored: StoredValue): Promise<Uint8Array> {
    if ('v' in stored) return encodeWireBytes(stored.v);
    const bytes = await this.fetch(stored);
    // A message's payload may be a view of a larger read buffer, which a copy to
    // another thread would take whole. (Not `slice()`: on a Buffer it makes a view.)
    return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : new Uint8Array(bytes);
  }

  /** The encoded value a reference points to. */
  private async fetch(stored: Exclude<StoredValue, { v: unknown }>): Promise<Uint8Array> {
    if ('seq' in stored) {
      const { names, jsm } = this.infra;
      const msg = await jsm.direct.getMessage(stored.job ? names.jobValuesStream : names.valuesStream, { seq: stored.seq });
      const found = msg !== null && (stored.job ? msg.subject.endsWith('.v') : msg.subject === names.valuesSubject);
      if (!found) throw new ValueNotFoundError(`stored value #${stored.seq} not found`);
      return msg.data;
    }
    // Read by direct gets, each of which is answered or times out, not by the store's
    // own `get`: a push consumer with no time limit, whose stall (across a reconnect,
    // say) would keep the work item reading it in flight for good.
    const info = await this.blobInfo(stored.ref);
    const bytes = new Uint8Array(info.size);
    let at = 0;
    for await (const chunk of await openObjectChunks(this.infra.jsm, info)) {
      if (at + chunk.byteLength > bytes.byteLength) throw new Error(`object "${info.name}" holds more than its ${info.size} bytes`);
      bytes.set(chunk, at);
      at += chunk.byteLength;
    }
    return bytes;
  }

  /** The object of the blobs store a value refers to. @throws ValueNotFoundError when it is gone */
  private async blobInfo(ref: string): Promise<ObjectInfo> {
    const info = await this.blobs.info(ref);
    if (info === null || info.deleted) throw new ValueNotFoundError(`stored value "${ref}" not found`);
    return info;
  }

  /** Deletes what a stored value refers to, if anything. */
  async discard(stored: StoredValue): Promise<void> {
    if ('seq' in stored) {
      const { jsm, names } = this.infra;
      await jsm.streams.deleteMessage(stored.job ? names.jobValuesStream : names.valuesStream, stored.seq, false).catch(() => undefined);
    }
    if ('ref' in stored) await this.blobs.delete(stored.ref).catch(() => undefined);
  }

  /** Removes the intermediate values of an ended job (see {@link discardJobValues}). */
  discardJob(jobId: string): Promise<void> {
    return discardJobValues(this.infra, jobId);
  }
}

/**
 * Removes the intermediate values of job `jobId` (those stored with its id; see
 * {@link StoreOptions.job}): its objects, then its messages, in one purge. Idempotent.
 * Call it once the job has ended: work of the job still running would no longer find
 * them.
 */
export async function discardJobValues(infra: Pick<Infrastructure, 'jsm' | 'names' | 'blobs'>, jobId: string): Promise<void> {
  const { jsm, names, blobs } = infra;
  const objects = names.jobObjectsSubject(jobId);
  for (let seq = 1; ; ) {
    const msg = await jsm.direct.getMessage(names.jobValuesStream, { next_by_subj: objects, seq });
    if (!msg) break;
    await blobs.delete(decoder.decode(msg.data)).catch(() => undefined);
    seq = msg.seq + 1;
  }
  await jsm.streams.purge(names.jobValuesStream, { filter: names.jobValueSubjectsOf(jobId) });
}
