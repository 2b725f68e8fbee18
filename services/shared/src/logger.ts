import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger } from 'pino';

/** The structured logger every Weft process uses: JSON lines on stdout, `service` on every line. */
export function createLogger(service: string, level: LoggerOptions['level'] = 'info'): Logger {
  return pino({ name: service, level, base: { service, pid: process.pid } });
}
