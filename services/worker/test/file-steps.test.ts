import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createFileAccess, openFileStore, type FileSplitRef } from '@weft/shared';
import { FileSteps } from '../src/engine/file-steps.js';
import { startHarness, type Harness } from './harness.js';

describe('map inputs from the shared volume', () => {
  let h: Harness;
  let dir: string;
  before(async () => {
    h = await startHarness();
    dir = mkdtempSync(path.join(os.tmpdir(), 'weft-file-steps-'));
  });
  after(async () => {
    rmSync(dir, { recursive: true, force: true });
    await h.close();
  });

  const never = new AbortController().signal;
  const split = (file: string): FileSplitRef => ({ source: { kind: 'volume', path: file, size: 6 }, start: 0, end: 6 });
  const steps = (root: string) => new FileSteps(createFileAccess(openFileStore(h.infra, h.workerConfig()), root), openFileStore(h.infra, h.workerConfig()));

  it('fails the job for a file that is missing', async () => {
    mkdirSync(path.join(dir, 'mounted'));
    const result = await steps(path.join(dir, 'mounted')).mapInput(split('gone.txt'), [], never, undefined);
    assert.equal(result.ok, false);
    assert.equal(!result.ok && result.code, 'FILE_NOT_FOUND');
  });

  it('throws, for the item to be delivered again, when the volume itself cannot be read yet', async () => {
    const root = path.join(dir, 'not-mounted-yet');
    await assert.rejects(steps(root).mapInput(split('a.txt'), [], never, undefined), { code: 'ENOENT' });
    mkdirSync(root);
    writeFileSync(path.join(root, 'a.txt'), 'hello\n');
    const result = await steps(root).mapInput(split('a.txt'), [], never, undefined);
    assert.ok(result.ok);
    assert.equal(result.value.firstArgSplit?.path, path.join(root, 'a.txt'));
  });
});
