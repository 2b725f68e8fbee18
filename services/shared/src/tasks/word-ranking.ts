/**
 * Ranking counted words: by count, descending, then by word in ascending UTF-16
 * code unit order (the order of `Array.prototype.sort()`), so ties are deterministic.
 */

/** A word and its count. */
export type WordCountEntry = [word: string, count: number];

/** Whether `a` ranks before `b`. */
function ranksBefore(a: WordCountEntry, b: WordCountEntry): boolean {
  return a[1] !== b[1] ? a[1] > b[1] : a[0] < b[0];
}

function compareEntries(a: WordCountEntry, b: WordCountEntry): number {
  if (a[1] !== b[1]) return b[1] - a[1];
  return a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0;
}

/** Restores the heap order (worst entry at the root) below `i`. */
function siftDown(heap: WordCountEntry[], i: number): void {
  const n = heap.length;
  for (;;) {
    const left = 2 * i + 1;
    if (left >= n) return;
    const right = left + 1;
    let worst = left;
    if (right < n && ranksBefore(heap[left] as WordCountEntry, heap[right] as WordCountEntry)) worst = right;
    if (!ranksBefore(heap[i] as WordCountEntry, heap[worst] as WordCountEntry)) return;
    [heap[i], heap[worst]] = [heap[worst] as WordCountEntry, heap[i] as WordCountEntry];
    i = worst;
  }
}

/**
 * The words of `counts` ranked (see the module comment), the first `top` of them
 * when `top` is given. Selecting the top few of many words keeps a heap of `top`
 * entries instead of sorting every word.
 */
export function rankWords(counts: ReadonlyMap<string, number>, top?: number): WordCountEntry[] {
  if (top === undefined || top >= counts.size || top * 8 >= counts.size) {
    const all: WordCountEntry[] = [...counts];
    all.sort(compareEntries);
    return top === undefined ? all : all.slice(0, top);
  }
  if (top <= 0) return [];
  // A heap of the best `top` entries so far, the worst of them at the root.
  const heap: WordCountEntry[] = [];
  for (const entry of counts) {
    if (heap.length < top) {
      heap.push(entry);
      if (heap.length === top) for (let i = (top >> 1) - 1; i >= 0; i--) siftDown(heap, i);
    } else if (ranksBefore(entry, heap[0] as WordCountEntry)) {
      heap[0] = entry;
      siftDown(heap, 0);
    }
  }
  return heap.sort(compareEntries);
}
