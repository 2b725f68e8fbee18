/**
 * Keys of results and aggregation state. Real plan nodes use their id; the virtual
 * nodes of aggregation trees get a letter-prefixed segment, which
 * never clashes with the numeric segments of real ids.
 */

/** Result key of a plan node. */
export const nodeKey = (jobId: string, nodeId: string): string => `${jobId}.${nodeId}`;

/** State key of reduce node (`level`, `index`) of map-reduce `nodeId`: its inputs. */
export const reduceKey = (jobId: string, nodeId: string, level: number, index: number): string =>
  `${jobId}.${nodeId}.r${level}-${index}`;

/** Result and state key of aggregation node (`level`, `index`) of group `nodeId`. */
export const groupKey = (jobId: string, nodeId: string, level: number, index: number): string =>
  `${jobId}.${nodeId}.g${level}-${index}`;

/** The job a result or state key belongs to (job ids hold no dots). */
export const jobOfKey = (key: string): string => key.slice(0, key.indexOf('.'));
