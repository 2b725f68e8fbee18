import { randomFillSync } from 'node:crypto';

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz'; // Crockford base32, lower case

/** Random bytes drawn 4 KiB at a time: one call into the CSPRNG per 256 ids. */
const pool = Buffer.alloc(4096);
let poolOffset = pool.length;

/** The next `count` bytes of the random pool, refilled when spent. */
function randomPoolBytes(count: number): Buffer {
  if (poolOffset + count > pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  poolOffset += count;
  return pool.subarray(poolOffset - count, poolOffset);
}

/**
 * A new job id: 26 characters, 10 of time (milliseconds) then 16 random, so ids
 * sort by creation time (like ULID) and are safe in NATS subjects and KV keys.
 */
export function newJobId(now: number = Date.now()): string {
  let time = '';
  let t = now;
  for (let i = 0; i < 10; i++) {
    time = ALPHABET[t % 32] + time;
    t = Math.floor(t / 32);
  }
  const bytes = randomPoolBytes(16);
  let rand = '';
  for (const b of bytes) rand += ALPHABET[b % 32];
  return time + rand;
}
