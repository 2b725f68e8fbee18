import { createHash } from 'node:crypto';
import type { JetStreamManager, StoredMsg } from '@nats-io/jetstream';
import type { ObjectInfo } from '@nats-io/obj';
import { ValueNotFoundError } from '../errors.js';

/** How an object store writes the digest of an object: `SHA-256=` and base64 (URL alphabet, padded). */
const DIGEST_PREFIX = 'SHA-256=';

/**
 * Opens an object of an object store for reading chunk by chunk (see
 * {@link readObjectChunks}), after checking that its chunks are all there: an object
 * deleted, or whose chunks expired before its metadata, is found missing before
 * anything of it is read.
 * @throws ValueNotFoundError when chunks are missing
 */
export async function openObjectChunks(jsm: JetStreamManager, info: ObjectInfo): Promise<AsyncGenerator<Uint8Array>> {
  await requireObjectChunks(jsm, info);
  return readObjectChunks(jsm, info);
}

/**
 * Checks that every chunk of an object is stored. (The object store client's own
 * reads wait for chunks that are gone for good: an object whose chunks expired
 * before its metadata, or were purged, would hold its reader forever.)
 * @throws ValueNotFoundError when chunks are missing
 */
export async function requireObjectChunks(jsm: JetStreamManager, info: ObjectInfo): Promise<void> {
  const { stream, subject } = chunkAddress(info);
  const state = (await jsm.streams.info(stream, { subjects_filter: subject })).state;
  const stored = state.subjects?.[subject] ?? 0;
  if (stored !== info.chunks) throw new ValueNotFoundError(`object "${info.name}" has ${stored} of its ${info.chunks} chunks`);
}

/** How many chunks beyond the one being read are asked for ahead of time. */
const READ_AHEAD_CHUNKS = 8;

/**
 * Reads the chunks of an object of an object store in order, as the caller asks for
 * them, holding at most {@link READ_AHEAD_CHUNKS} beyond the one it has. An object's
 * chunks are usually stored one after another: the next ones are asked for by
 * sequence ahead of time, each taken only if it is a chunk of this object, and where
 * another message sits between them the next chunk is looked for by its subject.
 * (The store's own `get` pushes every chunk into an unbounded buffer.) Once the last
 * chunk is read, their length and SHA-256 digest are checked against `info`.
 *
 * @throws ValueNotFoundError when a chunk is gone (the object was deleted or replaced)
 * @throws Error when the chunks do not add up to the object `info` describes
 */
export async function* readObjectChunks(jsm: JetStreamManager, info: ObjectInfo): AsyncGenerator<Uint8Array> {
  const { stream, subject } = chunkAddress(info);
  const bySeq = (seq: number) => jsm.direct.getMessage(stream, { seq }).catch(() => null);
  const hash = createHash('sha256');
  let size = 0;
  /** Where the next chunk is looked for from. */
  let from = 1;
  /** Messages asked for ahead, at the sequences after `from`. */
  let ahead: { seq: number; msg: Promise<StoredMsg | null> }[] = [];
  for (let chunk = 0; chunk < info.chunks; chunk++) {
    const guess = ahead.shift();
    let msg = guess?.seq === from ? await guess.msg : null;
    if (msg === null || msg.subject !== subject) {
      ahead = [];
      msg = await jsm.direct.getMessage(stream, { seq: from, next_by_subj: subject });
    }
    if (msg === null) throw new ValueNotFoundError(`chunk ${chunk} of object "${info.name}" is gone`);
    hash.update(msg.data);
    size += msg.data.byteLength;
    from = msg.seq + 1;
    const wanted = Math.min(READ_AHEAD_CHUNKS, info.chunks - chunk - 1);
    for (let seq = ahead.at(-1)?.seq ?? msg.seq; ahead.length < wanted; ) {
      seq += 1;
      ahead.push({ seq, msg: bySeq(seq) });
    }
    yield msg.data;
  }
  const digest = hash.digest();
  const expected = info.digest.startsWith(DIGEST_PREFIX) ? Buffer.from(info.digest.slice(DIGEST_PREFIX.length), 'base64') : undefined;
  if (size !== info.size || expected === undefined || !digest.equals(expected)) {
    throw new Error(`object "${info.name}" was read corrupt: ${size} bytes of ${info.size}, digest ${info.digest}`);
  }
}

/** The stream of an object's bucket, and the subject of its chunks. */
function chunkAddress(info: ObjectInfo): { stream: string; subject: string } {
  return { stream: `OBJ_${info.bucket}`, subject: `$O.${info.bucket}.C.${info.nuid}` };
}
