export { compilePlan, OUTPUT_ASSEMBLY_TASK, type PlanOptions } from './compile-plan.js';
export { treeLevels, childRange } from './aggregation-tree.js';
export { chunkOf, inputLength, isChunkable, type ChunkableInput, type RangeChunk } from './chunks.js';
export type { Plan, PlanNode, PlanTask, PlanChain, PlanGroup, PlanMapReduce, PlanComposite, PlanParent, PlanTaskTemplate } from './plan.js';
