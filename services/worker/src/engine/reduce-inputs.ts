import { nuid } from '@nats-io/transport-node';
import {
  decodeWire,
  encodeWire,
  isWrongLastSequence,
  parseMessage,
  StoredValueSchema,
  type StoredValue,
  type ValueStore,
} from '@weft/shared';
import { z } from 'zod';
import type { CasBucket } from './cas-bucket.js';
import { KeyedBatches, whoGoesOn, type BatchHold, type KeyedBatchesOptions } from './keyed-batches.js';
import { jobOfKey } from './keys.js';

/** The inputs of one reduce step collected so far: one slot per input, `null` until it arrives. */
const ReduceInputsSchema = z.object({ parts: z.array(StoredValueSchema.nullable()) });

/** Room for the inputs of one reduce step in its KV entry, in bytes (NATS messages are at most 1 MiB by default). */
const ENTRY_BUDGET_BYTES = 512 * 1024;

/** One input to add. */
interface Input {
  readonly index: number;
  readonly size: number;
  readonly value: unknown;
  readonly onWrite: (() => Promise<unknown>) | undefined;
}

/** Options of {@link ReduceInputs.add}. */
export interface AddInputOptions {
  /** The hold taken for this input (see {@link ReduceInputs.hold}), released as it is queued. */
  readonly hold?: BatchHold;
  /**
   * Called once the input's write is about to start, before anything of it is sent;
   * the input is stored only after the promise it returns resolves (its task's event
   * is stored first), and not at all if it rejects.
   */
  readonly onWrite?: () => Promise<unknown>;
}

/**
 * The inputs of map-reduce reduce steps, kept together in one state entry per step
 * and updated by compare-and-set. A finished chunk (or lower reduce step) costs one
 * read and one write, and the reduce step reads all its inputs at once. The first
 * value stored for an input wins, so an input delivered twice counts once. Inputs of
 * one step that arrive while this worker writes its entry go out together in the
 * next write, and so do inputs that wait for a held one (a chunk of the same step
 * still running on this worker), at most `maxHoldMs`.
 */
export class ReduceInputs {
  private readonly batches: KeyedBatches<Input, boolean>;

  constructor(
    private readonly state: CasBucket,
    private readonly values: ValueStore,
    options: KeyedBatchesOptions = {},
  ) {
    this.batches = new KeyedBatches((key, inputs) => this.write(key, inputs), options);
  }

  /**
   * Announces an input of `key` that is still being computed: the inputs of `key`
   * added meanwhile wait for it (at most `maxHoldMs`), so that they are written
   * together. Pass the hold to {@link add} with the input, or release it if none comes.
   */
  hold(key: string): BatchHold {
    return this.batches.hold(key);
  }

  /** Lets the inputs waiting for held ones now be written without them (see `KeyedBatches.flush`). */
  flush(): void {
    this.batches.flush();
  }

  /**
   * Stores input `index` of `size` inputs under `key`, unless it is already there.
   * Values larger than their share of the entry go to the values stream.
   * @returns whether every input is now there and this call is the one to go on (see {@link whoGoesOn})
   */
  add(key: string, index: number, size: number, value: unknown, options: AddInputOptions = {}): Promise<boolean> {
    return this.batches.run(key, { index, size, value, onWrite: options.onWrite }, options.hold);
  }

  private async write(key: string, inputs: readonly Input[]): Promise<boolean[]> {
    const published = Promise.all(inputs.flatMap((input) => (input.onWrite ? [input.onWrite()] : [])));
    published.catch(() => undefined); // awaited below, after the first read
    const size = (inputs[0] as Input).size;
    const share = Math.max(256, Math.floor(ENTRY_BUDGET_BYTES / size));
    // Values are stored once, only for inputs not there yet, and kept across retries.
    const stored = new Map<number, StoredValue>();
    const discardUnused = (parts: readonly (StoredValue | null)[]) =>
      Promise.all([...stored].filter(([index, value]) => parts[index] !== value).map(([, value]) => this.values.discard(value)));
    for (;;) {
      const current = await this.read(key, size);
      await published;
      const fresh = inputs.map((input, i) => current.parts[input.index] === null && inputs.findIndex((o) => o.index === input.index) === i);
      const parts = current.parts.slice();
      await Promise.all(
        inputs.map(async (input, i) => {
          if (!fresh[i]) return;
          let value = stored.get(input.index);
          if (!value) {
            value = await this.values.store(input.value, `${key}.${input.index}.${nuid.next()}`, { inlineMaxBytes: share, job: jobOfKey(key) });
            stored.set(input.index, value);
          }
          parts[input.index] = value;
        }),
      );
      const complete = parts.every((p) => p !== null);
      if (!fresh.includes(true)) {
        await discardUnused(parts);
        return whoGoesOn(complete, fresh);
      }
      try {
        await this.state.write(key, encodeWire({ parts }), current.revision);
        await discardUnused(parts);
        return whoGoesOn(complete, fresh);
      } catch (err) {
        if (!isWrongLastSequence(err)) throw err;
      }
    }
  }

  /** Whether input `index` is stored under `key`. */
  async has(key: string, index: number, size: number): Promise<boolean> {
    return (await this.read(key, size)).parts[index] != null;
  }

  /** The values of all inputs under `key`, in order. @throws Error when some are missing */
  async load(key: string, size: number): Promise<unknown[]> {
    return Promise.all((await this.complete(key, size)).map((part) => this.values.load(part)));
  }

  /** The inputs under `key`, in order, in wire bytes (for a task that decodes them itself). @throws Error when some are missing */
  async loadWire(key: string, size: number): Promise<Uint8Array[]> {
    return Promise.all((await this.complete(key, size)).map((part) => this.values.loadWire(part)));
  }

  /** Every input's stored form. @throws Error when some are missing */
  private async complete(key: string, size: number): Promise<StoredValue[]> {
    const { parts } = await this.read(key, size);
    const missing = parts.findIndex((part) => part === null);
    if (missing >= 0) throw new Error(`input ${missing} of ${key} is missing`);
    return parts as StoredValue[];
  }

  private async read(key: string, size: number): Promise<{ parts: (StoredValue | null)[]; revision: number }> {
    const { entry, revision } = await this.state.read(key);
    if (!entry) return { parts: new Array<StoredValue | null>(size).fill(null), revision };
    const { parts } = parseMessage(ReduceInputsSchema, decodeWire(entry.string()), 'reduce inputs');
    return { parts, revision };
  }
}
