/**
 * Readiness: whether NATS is connected and JetStream answers.
 */
import type { Infrastructure } from '@weft/shared';
import { NotReadyError } from '../api-errors.js';

/** Timing of the probe. */
export interface ReadinessProbeOptions {
  /** Longest wait for JetStream to answer, in milliseconds. @default 2000 */
  readonly timeoutMs?: number;
  /** How long an answer is reused, in milliseconds. @default 1000 */
  readonly cacheMs?: number;
}

/** Asks JetStream for the account info, at most once per `cacheMs`; concurrent probes share one request. */
export class ReadinessProbe {
  private last: { at: number; error: NotReadyError | undefined } | undefined;
  private inFlight: Promise<NotReadyError | undefined> | undefined;
  private readonly timeoutMs: number;
  private readonly cacheMs: number;

  constructor(
    private readonly infra: Pick<Infrastructure, 'nc' | 'jsm'>,
    options: ReadinessProbeOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? 2000;
    this.cacheMs = options.cacheMs ?? 1000;
  }

  /** Resolves when ready. @throws NotReadyError saying why not */
  async check(): Promise<void> {
    const now = performance.now();
    if (this.last === undefined || now - this.last.at >= this.cacheMs) {
      this.inFlight ??= this.probe().finally(() => (this.inFlight = undefined));
      const error = await this.inFlight;
      this.last = { at: performance.now(), error };
    }
    if (this.last.error !== undefined) throw this.last.error;
  }

  private async probe(): Promise<NotReadyError | undefined> {
    const { nc, jsm } = this.infra;
    if (nc.isClosed() || nc.isDraining()) return new NotReadyError('the NATS connection is closed');
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${this.timeoutMs} ms`)), this.timeoutMs);
    });
    try {
      await Promise.race([jsm.getAccountInfo(), timeout]);
      return undefined;
    } catch (err) {
      return new NotReadyError(`JetStream does not answer: ${err instanceof Error ? err.message : String(err)}`, {
        cause: err,
      });
    } finally {
      clearTimeout(timer);
    }
  }
}
