/** Probes of the local stack's ports and addresses. */
import net from 'node:net';
import { fatal } from './output.mjs';

/**
 * Fails if something already listens on host:port.
 * @param {string} host
 * @param {number} port
 * @param {string} hint
 */
export async function assertPortFree(host, port, hint) {
  const error = await new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', (err) => resolve(err));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(null)));
  });
  if (error === null) return;
  const code = /** @type {NodeJS.ErrnoException} */ (error).code;
  if (code === 'EADDRINUSE') fatal(`port ${port} on ${host} is already in use. ${hint}`);
  fatal(`cannot use ${host}:${port}: ${/** @type {Error} */ (error).message}`);
}

/**
 * Resolves true if a TCP connection to host:port succeeds.
 * @param {string} host
 * @param {number} port
 */
export function canConnect(host, port) {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    socket.setTimeout(1000);
    const done = (/** @type {boolean} */ ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.once('timeout', () => done(false));
  });
}

/**
 * The answer to GET url within 2 s; undefined if there was none.
 * @param {string} url
 */
async function get(url) {
  try {
    return await fetch(url, { signal: AbortSignal.timeout(2000) });
  } catch {
    return undefined;
  }
}

/**
 * Resolves with the HTTP status of GET url, or 0 if there was no answer.
 * @param {string} url
 */
export async function httpStatus(url) {
  const response = await get(url);
  await response?.body?.cancel().catch(() => undefined);
  return response?.status ?? 0;
}

/**
 * Resolves with the JSON body of GET url when it answers 200, else undefined.
 * @param {string} url
 * @returns {Promise<unknown>}
 */
export async function httpJson(url) {
  const response = await get(url);
  if (response?.status !== 200) {
    await response?.body?.cancel().catch(() => undefined);
    return undefined;
  }
  return response.json().catch(() => undefined);
}

/**
 * Host to connect to for a service bound to `host`.
 * @param {string} host
 */
export function connectHost(host) {
  return host === '0.0.0.0' || host === '::' || host === '' ? '127.0.0.1' : host;
}

/**
 * host:port for URLs, with brackets around IPv6 addresses.
 * @param {string} host
 * @param {number} port
 */
export function hostPort(host, port) {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
