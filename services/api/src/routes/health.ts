/**
 * Probes: `GET /healthz` (the process is alive) and `GET /readyz` (NATS and JetStream answer).
 */
import type { LevelWithSilent } from 'pino';
import type { ApiInstance, AppContext } from '../app-context.js';
import { HealthSchema, jsonResponse, problemResponses } from '../schemas.js';

/** Probes are frequent: their request logs go at `warn` unless the logger is quieter still. */
function probeLogLevel(app: ApiInstance): LevelWithSilent {
  const warn = app.log.levels.values['warn'] ?? 40;
  return app.log.levelVal > warn ? (app.log.level as LevelWithSilent) : 'warn';
}

/** Declares the probe routes. */
export function registerHealthRoutes(app: ApiInstance, ctx: AppContext): void {
  const logLevel = probeLogLevel(app);
  app.get(
    '/healthz',
    {
      schema: {
        tags: ['health'],
        summary: 'Liveness',
        response: { 200: jsonResponse(HealthSchema, 'The process is alive.') },
      },
      logLevel,
    },
    () => ({ status: 'ok' as const }),
  );
  app.get(
    '/readyz',
    {
      schema: {
        tags: ['health'],
        summary: 'Readiness',
        description: '200 when the NATS connection is up and JetStream answers, else 503.',
        response: { 200: jsonResponse(HealthSchema, 'Ready.'), ...problemResponses(503) },
      },
      logLevel,
    },
    async () => {
      await ctx.readiness.check();
      return { status: 'ok' as const };
    },
  );
}
