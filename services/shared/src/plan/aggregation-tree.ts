/**
 * Ordered aggregation trees: `count` leaves are combined `fanIn` at a time, in
 * contiguous runs, level by level, until one node remains. Used for reducing
 * map-reduce partials and for assembling the values of large groups.
 */

/** Number of aggregator nodes on each level, level 1 first; the last level has exactly one node. */
export function treeLevels(count: number, fanIn: number): number[] {
  if (fanIn < 2) throw new RangeError('fanIn must be at least 2');
  const levels: number[] = [];
  let n = Math.max(1, Math.ceil(count / fanIn));
  levels.push(n);
  while (n > 1) {
    n = Math.ceil(n / fanIn);
    levels.push(n);
  }
  return levels;
}

/** Index range `[start, end)` of the children of aggregator `index`, given `childCount` children on the level below. */
export function childRange(index: number, fanIn: number, childCount: number): [number, number] {
  const start = index * fanIn;
  return [start, Math.min(start + fanIn, childCount)];
}
