/** Probes of the local stack's ports and addresses. */
import http from 'node:http';
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
 * Resolves with the HTTP status of GET url, or 0 if there was no answer.
 * @param {string} url
 */
export function httpStatus(url) {
  return new Promise((resolve) => {
    const request = http.get(url, { timeout: 2000 }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    request.once('timeout', () => request.destroy());
    request.once('error', () => resolve(0));
  });
}

/**
 * Resolves with the JSON body of GET url when it answers 200, else undefined.
 * @param {string} url
 * @returns {Promise<unknown>}
 */
export function httpJson(url) {
  return new Promise((resolve) => {
    const request = http.get(url, { timeout: 2000 }, (response) => {
      if (response.statusCode !== 200) {
        response.resume();
        resolve(undefined);
        return;
      }
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk) => {
        text += chunk;
      });
      response.on('end', () => {
        try {
          resolve(JSON.parse(text));
        } catch {
          resolve(undefined);
        }
      });
      response.on('error', () => resolve(undefined));
    });
    request.once('timeout', () => request.destroy());
    request.once('error', () => resolve(undefined));
  });
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
