/**
 * k8s/manifests/weft.yaml must be what the chart renders with its defaults today.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parseManifests, renderChart } from './helm.js';
import { validateK8sObject } from './k8s-schemas.js';
import { REPO_ROOT } from './repo.js';

describe('k8s/manifests/weft.yaml', { timeout: 120_000 }, () => {
  it('matches the chart rendered with its default values', async () => {
    const text = await readFile(path.join(REPO_ROOT, 'k8s', 'manifests', 'weft.yaml'), 'utf8');
    assert.match(text, /^# .*\n# .*\n# scripts\/render-manifests\.sh/, 'the file says how it is made');
    const committed = parseManifests(text);
    const rendered = await renderChart({ release: 'weft', namespace: 'weft' });
    assert.deepEqual(committed, rendered, 'k8s/manifests/weft.yaml is out of date: run scripts/render-manifests.sh and commit the result');
    for (const object of committed) validateK8sObject(object);
  });
});
