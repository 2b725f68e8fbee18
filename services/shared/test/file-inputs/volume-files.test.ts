import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, truncateSync, utimesSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { FileChangedError } from '../../src/errors.js';
import { openVolumeFile } from '../../src/file-inputs/volume-files.js';
import type { ByteSource } from '../../src/files/byte-source.js';
import { readLineAlignedRange } from '../../src/files/line-aligned-range.js';

void describe('openVolumeFile', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'weft-volume-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const OLD = 'old line\n'.repeat(1000);
  const NEW = 'new line\n'.repeat(1000);

  /** Writes `name` with the old content and returns its path and version. */
  function written(name: string): { file: string; version: { size: number; mtimeMs: number } } {
    const file = path.join(dir, name);
    writeFileSync(file, OLD);
    const { size, mtimeMs } = statSync(file);
    return { file, version: { size, mtimeMs } };
  }

  /** Marks `file` as written a second after its current time of writing. */
  function touchLater(file: string): void {
    const later = new Date(statSync(file).mtimeMs + 1000);
    utimesSync(file, later, later);
  }

  /** Writes `name`, opens it at that version, and runs `use` before closing it. */
  async function whileOpen(name: string, use: (source: ByteSource, file: string, size: number) => Promise<void>): Promise<void> {
    const { file, version } = written(name);
    const source = await openVolumeFile(file, version, name);
    try {
      await use(source, file, version.size);
    } finally {
      await source.close();
    }
  }

  const isChanged = (err: unknown) => err instanceof FileChangedError && /changed since the job was submitted/.test(err.message);

  void it('reads a file that keeps its version', async () => {
    await whileOpen('same.txt', async (source, _file, size) => {
      assert.equal(Buffer.from(await source.read(0, 18)).toString(), 'old line\nold line\n');
      assert.equal((await source.read(size - 9, 100)).length, 9);
    });
  });

  void it('refuses to open a file whose size or time of writing changed', async () => {
    const { file, version } = written('before.txt');
    touchLater(file);
    await assert.rejects(openVolumeFile(file, version, 'before.txt'), isChanged);
    await assert.rejects(openVolumeFile(file, { ...version, size: version.size + 1 }, 'before.txt'), isChanged);
  });

  void it('fails a read once the file was cut and written again while open', async () => {
    await whileOpen('rewritten.txt', async (source, file) => {
      await source.read(0, 64);
      truncateSync(file, 0);
      writeFileSync(file, NEW.slice(0, 100));
      await assert.rejects(source.read(64, 64), isChanged);
    });
  });

  void it('fails a read once the file was overwritten in place at the same size while open', async () => {
    await whileOpen('in-place.txt', async (source, file) => {
      const handle = await open(file, 'r+');
      await handle.write(NEW.slice(0, 90), 4500);
      await handle.close();
      touchLater(file);
      await assert.rejects(source.read(4500, 90), isChanged);
    });
  });

  void it('fails a split read when the file changes between its reads, never returning mixed lines', async () => {
    await whileOpen('split.txt', async (source, file, size) => {
      let reads = 0;
      const changing: ByteSource = {
        size,
        read: async (offset, length) => {
          const bytes = await source.read(offset, length);
          // After the first read, the file is replaced by other lines of the same size.
          if (++reads === 1) {
            writeFileSync(file, NEW);
            touchLater(file);
          }
          return bytes;
        },
      };
      await assert.rejects(readLineAlignedRange(changing, 0, size, { chunkBytes: 1000 }), isChanged);
    });
  });
});
