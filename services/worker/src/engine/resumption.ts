/**
 * Resuming repeated work items: an item delivered again whose result is already
 * stored is not run again.
 */
import type { Plan, WorkItem } from '@weft/shared';
import type { Dispatch } from './dispatcher.js';
import { groupKey, nodeKey } from './keys.js';
import { groupNode, mapReduceNode, taskNode } from './plan-nodes.js';
import type { JobHandle, Progression } from './progression.js';
import type { Results } from './results.js';

/**
 * A repeated item (see `Delivery.repeat`) whose result is already stored is not run
 * again: the advancement that may have been cut short is repeated instead (it is
 * idempotent), appending the work items it dispatches to `out`.
 * @returns whether the item was already done
 */
export async function resumeIfDone(
  results: Results,
  progression: Progression,
  job: JobHandle,
  plan: Plan,
  item: Exclude<WorkItem, { kind: 'start' }>,
  out: Dispatch[],
): Promise<boolean> {
  switch (item.kind) {
    case 'task': {
      const node = taskNode(plan, item.node);
      const done = await results.get(nodeKey(job.id, node.id));
      if (done) await progression.complete(job, node, done.value, done.stored, out);
      return done !== undefined;
    }
    case 'batch': {
      const group = groupNode(plan, item.node);
      const top = group.levels.length === 1;
      const done = await results.get(top ? nodeKey(job.id, group.id) : groupKey(job.id, group.id, 1, item.index));
      if (done) await progression.groupLevelDone(job, group, 1, item.index, done.value as unknown[], out);
      return done !== undefined;
    }
    case 'chunk': {
      // The chunk's value is an input of its reduce step; once stored there, only the
      // dispatch of that step may be missing (the value passed on is then ignored).
      const mr = mapReduceNode(plan, item.node);
      const done = await progression.hasReduceInput(job.id, mr, 1, item.index);
      if (done) await progression.chunkDone(job, mr, item.index, undefined, out);
      return done;
    }
    case 'reduce': {
      const mr = mapReduceNode(plan, item.node);
      if (item.level === mr.levels.length) {
        const done = await results.get(nodeKey(job.id, mr.id));
        if (done) await progression.reduceDone(job, mr, item.level, item.index, done.value, out);
        return done !== undefined;
      }
      const done = await progression.hasReduceInput(job.id, mr, item.level + 1, item.index);
      if (done) await progression.reduceDone(job, mr, item.level, item.index, undefined, out);
      return done;
    }
  }
}
