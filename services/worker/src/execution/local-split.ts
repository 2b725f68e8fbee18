/**
 * Reading a split of a file on the shared volume where the task runs (on a thread of
 * the pool, for CPU-bound tasks), instead of reading it on the main thread and copying it.
 */
import { openVolumeFile, readLineAlignedRange, type LocalSplit, type SplitText } from '@weft/shared';

/** The lines of a local split, in the form map tasks take. */
export async function readLocalSplit(split: LocalSplit): Promise<SplitText> {
  const opened = await openVolumeFile(split.path, split.size);
  try {
    return { file: split.file, bytes: await readLineAlignedRange(opened, split.start, split.end) };
  } finally {
    await opened.close();
  }
}
