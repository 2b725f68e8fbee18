/**
 * Piscina's entry for pool threads, in CommonJS. Piscina loads its entry with
 * `require()`; on Node.js versions where that loads an ES module synchronously, a
 * thread terminated while it loads (the replacement of a thread whose task was
 * aborted, when the pool closes a moment later) aborts the whole process. Loaded with
 * `import()` here, in the background as the thread starts, it can be terminated safely.
 */
import type { ThreadRequest } from './thread.js';

const loading = import('./thread.js');
// Failing to load is reported by the first task.
loading.catch(() => undefined);

async function runInThread(request: ThreadRequest): Promise<unknown> {
  return (await loading).default(request);
}

export = runInThread;
