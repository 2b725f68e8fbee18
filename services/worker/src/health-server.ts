import { createServer, type Server } from 'node:http';
import type { WorkerState } from './worker.js';

/** A running health endpoint. */
export interface HealthServer {
  close(): Promise<void>;
}

/**
 * Serves `GET /healthz` (the process is alive) and `GET /readyz` (the worker is
 * pulling work; 503 while it starts, which includes waiting for NATS, and while it
 * drains) for Kubernetes probes.
 */
export async function startHealthServer(port: number, state: () => WorkerState | 'starting'): Promise<HealthServer> {
  const server: Server = createServer((req, res) => {
    const ready = state() === 'running';
    const ok = req.url === '/healthz' || (req.url === '/readyz' && ready);
    const known = req.url === '/healthz' || req.url === '/readyz';
    res.writeHead(known ? (ok ? 200 : 503) : 404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ status: known ? (ok ? 'ok' : 'unavailable') : 'not found', state: state() }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, resolve);
  });
  return { close: () => new Promise((resolve) => server.close(() => resolve())) };
}
