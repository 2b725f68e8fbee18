import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RunningNatsServer } from '../../src/testing/index.js';

/**
 * Stops the server's process (SIGSTOP) and waits until it is stopped: it keeps its
 * connections but reads and answers nothing. The returned function lets it go on
 * (SIGCONT), if it still runs; call it in a `finally`, or closing the connection
 * would wait for the server for ever.
 */
export async function pauseServer(server: RunningNatsServer): Promise<() => void> {
  const { pid } = server;
  process.kill(pid, 'SIGSTOP');
  // The signal is sent, not yet taken: the server could still answer what comes meanwhile.
  for (let i = 0; i < 200 && !(await isStopped(pid)); i++) await sleep(10);
  return () => {
    try {
      process.kill(pid, 'SIGCONT');
    } catch {
      // Killed meanwhile.
    }
  };
}

/** Whether process `pid` is stopped, from /proc/`pid`/stat (its state, after the parenthesised command name). */
async function isStopped(pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'T';
}
