import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import type { KV } from '@nats-io/kv';
import { FileStore, type FileManifest, type Infrastructure } from '../../src/index.js';
import { startInstallation, type TestInstallation } from '../installation.js';

function chunks(text: string): AsyncIterable<Uint8Array> {
  return Readable.from([Buffer.from(text)]) as AsyncIterable<Uint8Array>;
}

async function content(store: FileStore, name: string): Promise<string> {
  const parts: Uint8Array[] = [];
  for await (const part of store.read(await store.require(name))) parts.push(part);
  return Buffer.concat(parts).toString('utf8');
}

describe('FileStore with writers racing', () => {
  let installation: TestInstallation;
  let infra: Infrastructure;

  before(async () => {
    installation = await startInstallation('store');
    infra = installation.infra;
  });
  after(async () => installation.close());

  /** A store whose manifests bucket runs `meanwhile` once, just before its first purge. */
  function storeWithRace(meanwhile: (store: FileStore) => Promise<unknown>): FileStore {
    let raced = false;
    const files = new Proxy(infra.files, {
      get(target, property, receiver) {
        if (property !== 'purge') return Reflect.get(target, property, receiver) as unknown;
        return async (...args: Parameters<KV['purge']>) => {
          if (!raced) {
            raced = true;
            await meanwhile(store);
          }
          return target.purge(...args);
        };
      },
    });
    const store: FileStore = new FileStore({ js: infra.js, jsm: infra.jsm, names: infra.names, files, maxPayloadBytes: 1024 * 1024 }, 4096);
    return store;
  }

  /** Parts kept of the uploads `ids`. */
  async function storedParts(...ids: string[]): Promise<number> {
    let total = 0;
    for (const id of ids) {
      const info = await infra.jsm.streams.info(infra.names.fileDataStream, { subjects_filter: infra.names.fileDataSubject(id) });
      for (const count of Object.values(info.state.subjects ?? {})) total += count;
    }
    return total;
  }

  it("keeps a replacing upload when the replaced file's data cannot be removed", async () => {
    const streams = new Proxy(infra.jsm.streams, {
      get(target, property, receiver) {
        if (property === 'purge') return () => Promise.reject(new Error('purge failed'));
        return Reflect.get(target, property, receiver) as unknown;
      },
    });
    const failingPurge = new Proxy(infra.jsm, {
      get: (target, property, receiver) => (property === 'streams' ? streams : (Reflect.get(target, property, receiver) as unknown)),
    });
    const store = new FileStore({ js: infra.js, jsm: failingPurge, names: infra.names, files: infra.files, maxPayloadBytes: 1024 * 1024 }, 4096);
    await store.put('kept/a.txt', chunks('first\n'));
    await store.put('kept/a.txt', chunks('second\n'));
    assert.equal(await content(store, 'kept/a.txt'), 'second\n');
  });

  it('does not overwrite a file stored while a conditional upload streamed in', async () => {
    const store = new FileStore({ js: infra.js, jsm: infra.jsm, names: infra.names, files: infra.files, maxPayloadBytes: 1024 * 1024 }, 4096);
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let streaming!: () => void;
    const started = new Promise<void>((resolve) => (streaming = resolve));
    async function* slowBody(): AsyncGenerator<Uint8Array> {
      yield Buffer.from('late line\n');
      streaming();
      await held;
      yield Buffer.from('last line\n');
    }
    // Create-only: there is no file when it starts.
    const late = store.put('cond/race.txt', slowBody(), { precondition: (current) => current === undefined });
    late.catch(() => undefined);
    await started;
    const first = await store.put('cond/race.txt', chunks('first\n'));
    release();
    await assert.rejects(late, { code: 'PRECONDITION_FAILED' });
    assert.equal(await content(store, 'cond/race.txt'), 'first\n');
    assert.equal((await store.stat('cond/race.txt'))?.id, first.id);
  });

  it('deletes a file only if its precondition holds', async () => {
    const store = new FileStore({ js: infra.js, jsm: infra.jsm, names: infra.names, files: infra.files, maxPayloadBytes: 1024 * 1024 }, 4096);
    const stored = await store.put('cond/del.txt', chunks('x\n'));
    await assert.rejects(store.delete('cond/del.txt', (current) => current?.id === 'another'), { code: 'PRECONDITION_FAILED' });
    assert.equal(await store.delete('cond/del.txt', (current) => current?.id === stored.id), true);
    assert.equal(await store.stat('cond/del.txt'), undefined);
  });

  it('deletes the file it read, not one an upload put in its place meanwhile', async () => {
    let second: FileManifest | undefined;
    const store = storeWithRace(async (s) => (second = await s.put('race/a.txt', chunks('second\n'))));
    const first = await store.put('race/a.txt', chunks('first\n'));
    assert.equal(await store.delete('race/a.txt'), true);
    assert.ok(second, 'the upload ran during the delete');
    // The upload that finished during the delete is deleted whole (its manifest and its
    // data), or kept whole; the first is gone.
    const left = await store.stat('race/a.txt');
    if (left) assert.equal(await content(store, 'race/a.txt'), 'second\n');
    assert.equal(await storedParts(first.id, second.id), left ? left.parts.length : 0);
  });
});
