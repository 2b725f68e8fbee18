/**
 * Sets `key` in `map` as its most recent entry, and drops the least recent entries
 * beyond `max` (a Map iterates in insertion order): a cache of bounded size.
 */
export function setBounded<K, V>(map: Map<K, V>, key: K, value: V, max: number): void {
  map.delete(key);
  map.set(key, value);
  for (const oldest of map.keys()) {
    if (map.size <= max) break;
    map.delete(oldest);
  }
}
