import type { Logger } from 'pino';

/**
 * Stops a service process cleanly: on the first SIGTERM or SIGINT, runs `close` once
 * and exits 0, or 1 if closing failed or took longer than `timeoutMs`.
 */
export function exitOnSignals(log: Logger, close: () => Promise<unknown>, timeoutMs?: number): void {
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping');
    if (timeoutMs !== undefined) {
      setTimeout(() => {
        log.error({ timeoutMs }, 'shutdown timed out');
        process.exit(1);
      }, timeoutMs).unref();
    }
    close()
      .then(() => {
        log.info('stopped');
        process.exit(0);
      })
      .catch((err: unknown) => {
        log.error({ err }, 'unclean shutdown');
        process.exit(1);
      });
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
