/**
 * charts/weft as a user meets it: `helm lint --strict`, bad values rejected with a
 * message naming them, and NOTES that say how to reach, use and scale Weft.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CHART_DIR, helm, renderNotes, templateChart } from './helm.js';
import { describeResult } from './repo.js';

const TEST_TIMEOUT_MS = 120_000;

/**
 * A value's path in a schema error: helm 3.18 and later print JSON pointers
 * (`/workers/pools/0/name`), earlier versions dotted paths (`workers.pools.0.name`).
 */
function field(dotted: string): RegExp {
  return new RegExp(dotted.split('.').map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('[./]'));
}

const BELOW_MINIMUM = /minimum|greater than or equal/i;

/** Renders with `values` and expects helm to refuse, with every pattern in its error output. */
async function assertRejected(values: Record<string, unknown>, ...patterns: RegExp[]): Promise<void> {
  const result = await templateChart({ values });
  assert.notEqual(result.code, 0, `helm template accepted ${JSON.stringify(values)}:\n${result.stdout.slice(0, 2000)}`);
  for (const pattern of patterns) {
    assert.match(result.stderr, pattern, describeResult('helm template', result));
  }
}

describe('chart: lint', { timeout: TEST_TIMEOUT_MS }, () => {
  it('passes helm lint --strict with the defaults and with every option on', async () => {
    const plain = await helm(['lint', '--strict', CHART_DIR]);
    assert.equal(plain.code, 0, describeResult('helm lint --strict', plain));
    const everything = await helm([
      'lint',
      '--strict',
      CHART_DIR,
      '--set',
      'workers.defaults.autoscaling.enabled=false,workers.defaults.keda.enabled=true',
      '--set',
      'api.ingress.enabled=true,sharedData.enabled=true,networkPolicy.enabled=true,nats.auth.enabled=true',
    ]);
    assert.equal(everything.code, 0, describeResult('helm lint --strict (all options)', everything));
  });
});

describe('chart: values the schema rejects', { timeout: TEST_TIMEOUT_MS }, () => {
  it('rejects negative replicas', async () => {
    await assertRejected({ workers: { defaults: { replicas: -1 } } }, field('workers.defaults.replicas'), BELOW_MINIMUM);
    await assertRejected({ api: { replicas: -2 } }, field('api.replicas'), BELOW_MINIMUM);
  });

  it('rejects unknown keys, naming them', async () => {
    await assertRejected({ replicaCount: 3 }, /replicaCount/, /not allowed/);
    await assertRejected({ workers: { pools: [{ name: 'default', queues: ['default'], replica: 2 }] } }, field('workers.pools.0'), /replica/);
  });

  it('rejects a bad pool name and a pool without queues', async () => {
    await assertRejected({ workers: { pools: [{ name: 'Heavy_Pool', queues: ['heavy'] }] } }, field('workers.pools.0.name'), /Heavy_Pool/);
    await assertRejected({ workers: { pools: [{ name: 'heavy' }] } }, field('workers.pools.0'), /queues/);
    await assertRejected({ workers: { pools: [{ name: 'heavy', queues: ['Not A Queue'] }] } }, field('workers.pools.0.queues.0'));
  });

  it('rejects wrong types and enum values', async () => {
    await assertRejected({ api: { image: { pullPolicy: 'Sometimes' } } }, field('api.image.pullPolicy'));
    await assertRejected({ logLevel: 'loud' }, /logLevel/);
    await assertRejected({ workers: { defaults: { threads: 'four' } } }, field('workers.defaults.threads'));
    await assertRejected({ nats: { auth: { enabled: true, password: 'has spaces and #' } } }, field('nats.auth.password'));
  });
});

describe('chart: values the templates reject', { timeout: TEST_TIMEOUT_MS }, () => {
  it('rejects a pool with both a HorizontalPodAutoscaler and KEDA', async () => {
    await assertRejected(
      { workers: { defaults: { keda: { enabled: true } } } },
      /workers\.pools\[0\] \("default"\)/,
      /autoscaling\.enabled and keda\.enabled are both true/,
    );
  });

  it('rejects duplicate pool names', async () => {
    await assertRejected(
      { workers: { pools: [{ name: 'a', queues: ['a'] }, { name: 'a', queues: ['b'] }] } },
      /pool named "a"/,
    );
  });

  it('rejects a grace period shorter than the drain', async () => {
    await assertRejected({ workers: { terminationGracePeriodSeconds: 20 } }, /terminationGracePeriodSeconds \(20 s\)/, /drainTimeoutMs/);
  });

  it('rejects min above max replicas', async () => {
    await assertRejected({ workers: { defaults: { autoscaling: { minReplicas: 5, maxReplicas: 3 } } } }, /minReplicas \(5\)/);
  });

  it('rejects KEDA on an external NATS without its monitoring endpoint', async () => {
    await assertRejected(
      {
        nats: { external: { url: 'nats://nats.example:4222' } },
        workers: { defaults: { autoscaling: { enabled: false }, keda: { enabled: true } } },
      },
      /nats\.external\.monitoringEndpoint/,
    );
  });

  it('rejects generated credentials for an external NATS', async () => {
    await assertRejected({ nats: { external: { url: 'nats://nats.example:4222' }, auth: { enabled: true } } }, /nats\.auth\.existingSecret/);
  });
});

describe('chart: NOTES', { timeout: TEST_TIMEOUT_MS }, () => {
  it('tell how to port-forward, submit a job with curl and scale by hand when autoscaling is off', async () => {
    const notes = await renderNotes({ values: { workers: { defaults: { autoscaling: { enabled: false } } } } });
    assert.match(notes, /kubectl --namespace weft port-forward service\/weft-api 8080:8080/);
    assert.match(notes, /curl -s -X POST 'localhost:8080\/v1\/jobs\?wait=30' -H 'content-type: application\/json' -d '\{"task":"add","args":\[4,6\]\}'/);
    assert.match(notes, /curl -s localhost:8080\/v1\/workers/);
    assert.match(notes, /kubectl --namespace weft scale deployment\/weft-worker-default --replicas=/);
  });

  it('explain that the HorizontalPodAutoscaler owns the replicas when it is on', async () => {
    const notes = await renderNotes();
    assert.match(notes, /HorizontalPodAutoscaler weft-worker-default/);
    assert.match(notes, /kubectl --namespace weft get hpa weft-worker-default/);
    assert.doesNotMatch(notes, /kubectl --namespace weft scale/);
  });
});
