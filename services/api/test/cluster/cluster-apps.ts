/**
 * Helpers of the cluster endpoints' tests: an application pointed at a fake
 * Kubernetes API server through a kubeconfig file, sharing the test NATS.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LightMyRequestResponse } from 'fastify';
import { createLogger, resolveApiConfig, type ApiConfig, type ApiConfigSchema } from '@weft/shared';
import type { z } from 'zod';
import { buildApp, type ApiInstance } from '../../src/index.js';
import type { TestEnv } from '../helpers/test-env.js';
import type { FakeKubeApi } from './fake-kube-api.js';

const logLevel = (process.env['WEFT_TEST_LOG_LEVEL'] ?? 'silent') as ApiConfig['logLevel'];

/** An application on the test NATS with extra settings; close it after use. */
export async function appWith(env: TestEnv, config: Partial<z.input<typeof ApiConfigSchema>>): Promise<ApiInstance> {
  const resolved = resolveApiConfig({ natsUrl: env.config.natsUrl, prefix: env.config.prefix, logLevel, ...config });
  return buildApp({ config: resolved, infra: env.infra, logger: createLogger('weft-api-test', logLevel) });
}

/**
 * Runs `fn` with an application that reaches `fake` through a kubeconfig written
 * to a fresh temporary directory; closes the application and removes the directory.
 */
export async function withClusterApp(
  env: TestEnv,
  fake: FakeKubeApi,
  config: Partial<z.input<typeof ApiConfigSchema>>,
  fn: (app: ApiInstance) => Promise<void>,
): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'weft-kube-'));
  try {
    const app = await appWith(env, { k8sKubeconfig: await fake.writeKubeconfig(dir), ...config });
    try {
      await fn(app);
    } finally {
      await app.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}


/** PUTs a replica count (or any body) to a pool. */
export function putReplicas(app: ApiInstance, pool: string, body: unknown): Promise<LightMyRequestResponse> {
  return app.inject({
    method: 'PUT',
    url: `/v1/workers/${encodeURIComponent(pool)}/replicas`,
    headers: { 'content-type': 'application/json' },
    payload: JSON.stringify(body),
  });
}
