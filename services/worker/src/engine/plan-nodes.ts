/**
 * The plan nodes a work item names, looked up by id and kind: a work item whose node
 * is missing or of another kind does not belong to the plan, which is an error.
 */
import type { Plan, PlanGroup, PlanMapReduce, PlanNode, PlanTask } from '@weft/shared';

/** Task node `id` of `plan`. @throws Error when there is none */
export function taskNode(plan: Plan, id: string): PlanTask {
  return expectNode(plan, id, 'task');
}

/** Group node `id` of `plan`. @throws Error when there is none */
export function groupNode(plan: Plan, id: string): PlanGroup {
  return expectNode(plan, id, 'group');
}

/** Map-reduce node `id` of `plan`. @throws Error when there is none */
export function mapReduceNode(plan: Plan, id: string): PlanMapReduce {
  return expectNode(plan, id, 'mapReduce');
}

function expectNode<K extends PlanNode['kind']>(plan: Plan, id: string, kind: K): Extract<PlanNode, { kind: K }> {
  const node = plan.node(id);
  if (node?.kind !== kind) throw new Error(`plan has no ${kind} node "${id}"`);
  return node as Extract<PlanNode, { kind: K }>;
}

/** The members of batch `index` of `group`, all tasks. @throws Error when one is not */
export function batchMembers(group: PlanGroup, index: number): PlanTask[] {
  const members = group.members.slice(index * group.fanIn, (index + 1) * group.fanIn);
  if (!members.every((m): m is PlanTask => m.kind === 'task')) throw new Error(`batch ${index} of ${group.id} has non-task members`);
  return members;
}
