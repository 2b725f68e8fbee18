import type { KV } from '@nats-io/kv';
import { isWrongLastSequence, type Logger } from '@weft/shared';

/** Tries at writing a count before giving up (only racing writers make one fail). */
const WRITE_TRIES = 5;

/**
 * Work items handed back by workers that closed before finishing them. JetStream
 * counts those deliveries as it counts the ones after a worker died, but they say
 * nothing about an item killing its workers (a pool scaled down again and again hands
 * back the same long task each time); so they are counted here, per message, in the
 * state bucket (and expire with it), and taken off before an item is judged poison.
 */
export class HandBacks {
  constructor(
    private readonly state: KV,
    private readonly log: Logger,
  ) {}

  /** Counts a hand-back of the message at `streamSequence`; never throws (a count missed makes the judgement stricter, not wrong). */
  async record(streamSequence: number): Promise<void> {
    const key = handBackKey(streamSequence);
    try {
      for (let tries = 0; tries < WRITE_TRIES; tries++) {
        const entry = await this.state.get(key);
        const count = entry?.operation === 'PUT' ? Number(entry.string()) + 1 : 1;
        try {
          if (entry?.operation === 'PUT') await this.state.update(key, String(count), entry.revision);
          else await this.state.create(key, String(count));
          return;
        } catch (err) {
          if (!isWrongLastSequence(err)) throw err;
        }
      }
    } catch (err) {
      this.log.warn({ err, streamSequence }, 'could not count a work item handed back');
    }
  }

  /** Hand-backs counted for the message at `streamSequence`. */
  async count(streamSequence: number): Promise<number> {
    const entry = await this.state.get(handBackKey(streamSequence));
    const count = entry?.operation === 'PUT' ? Number(entry.string()) : 0;
    return Number.isSafeInteger(count) && count > 0 ? count : 0;
  }
}

function handBackKey(streamSequence: number): string {
  return `handback.${streamSequence}`;
}
