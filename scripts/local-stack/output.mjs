/** Output of the local stack's supervisor itself (its children's output goes to their logs). */
import process from 'node:process';

for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', () => {
    // Closed (e.g. piped into `head`, or a pager that quit): keep supervising regardless.
  });
}

/** @param {string} message */
export function say(message) {
  process.stdout.write(`[stack] ${message}\n`);
}

/** @param {string} message */
export function warn(message) {
  process.stderr.write(`[stack] ${message}\n`);
}

/**
 * Exits with status 1 before anything was started.
 * @param {string} message
 * @returns {never}
 */
export function fatal(message) {
  process.stderr.write(`[stack] error: ${message}\n`);
  process.exit(1);
}
