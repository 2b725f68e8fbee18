/**
 * The example jobs in k8s/examples, which the README submits with `curl -d @file`:
 * the API accepts every one, and the quick ones produce the values the README shows.
 */
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startTestEnv, type TestEnv } from '../helpers/test-env.js';
import { REPO_ROOT } from './repo.js';

const EXAMPLES_DIR = path.join(REPO_ROOT, 'k8s', 'examples');

/** The value each quick example must produce, as it appears in the JSON response. */
const QUICK_RESULTS: Record<string, string> = {
  'add.json': '10',
  'chain.json': '20',
  'group.json': '[2,55]',
  'chord.json': '15',
  'map-reduce.json': '333333833333500000',
};

async function examples(): Promise<Map<string, string>> {
  const files = (await readdir(EXAMPLES_DIR)).filter((f) => f.endsWith('.json')).sort();
  return new Map(await Promise.all(files.map(async (f) => [f, await readFile(path.join(EXAMPLES_DIR, f), 'utf8')] as const)));
}

describe('k8s/examples', { timeout: 120_000 }, () => {
  let accepting: TestEnv;
  let running: TestEnv;
  before(async () => {
    [accepting, running] = await Promise.all([startTestEnv({ worker: false }), startTestEnv()]);
  });
  after(async () => {
    await Promise.all([accepting?.close(), running?.close()]);
  });

  it('are all valid job specs', async () => {
    const all = await examples();
    assert.ok(all.size >= Object.keys(QUICK_RESULTS).length, `examples: ${[...all.keys()].join(', ')}`);
    for (const [file, body] of all) {
      const response = await accepting.app.inject({ method: 'POST', url: '/v1/jobs', headers: { 'content-type': 'application/json' }, payload: body });
      assert.equal(response.statusCode, 202, `${file}: ${response.body}`);
    }
  });

  it('produce the values the README shows', async () => {
    const all = await examples();
    for (const [file, expected] of Object.entries(QUICK_RESULTS)) {
      const body = all.get(file);
      assert.ok(body !== undefined, `k8s/examples/${file} exists`);
      const response = await running.app.inject({
        method: 'POST',
        url: '/v1/jobs?wait=30',
        headers: { 'content-type': 'application/json' },
        payload: body,
      });
      assert.equal(response.statusCode, 200, `${file}: ${response.body}`);
      assert.ok(response.body.includes(`"status":"succeeded"`), `${file}: ${response.body}`);
      assert.ok(response.body.includes(`"result":${expected}`), `${file}: expected result ${expected}, got ${response.body}`);
    }
  });
});
