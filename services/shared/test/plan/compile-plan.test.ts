import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidTaskArgsError } from '../../src/errors.js';
import { compilePlan } from '../../src/plan/compile-plan.js';
import { parseJobSpec } from '../../src/spec/parse-job-spec.js';
import { TaskCatalogue } from '../../src/tasks/index.js';

void describe('compilePlan', () => {
  const catalogue = TaskCatalogue.builtin();
  const spec = parseJobSpec(
    { mapReduce: { input: { items: [...Array.from({ length: 3000 }, () => 1), 'x'] }, chunkSize: 100, map: { task: 'squares' }, reduce: { task: 'sum' } } },
    { maxNodes: 100, maxDepth: 8 },
  );

  void it('checks every inline item by default, and only the first ones of a spec checked before', () => {
    assert.throws(
      () => compilePlan(spec, catalogue, { maxChunks: 100 }),
      (err: unknown) => err instanceof InvalidTaskArgsError && err.issues[0]?.pointer === '/mapReduce/input/items/3000',
    );
    assert.equal(compilePlan(spec, catalogue, { maxChunks: 100, checkAllItems: false }).taskCount, 31 + 2 + 1);
  });

  void it("lists every queue the job's work goes to, its start item's first", () => {
    const limits = { maxNodes: 100, maxDepth: 8 };
    const mapReduce = { input: { range: { start: 0, end: 10 } }, map: { task: 'squares', queue: 'b' }, reduce: { task: 'sum', queue: 'c' } };
    const nested = parseJobSpec({ chain: [{ task: 'add', args: [1, 2], queue: 'a' }, { mapReduce }], queue: 'root' }, limits);
    assert.deepEqual([...compilePlan(nested, catalogue, { maxChunks: 100 }).queues].sort(), ['a', 'b', 'c', 'root']);
    const inherited = parseJobSpec({ group: [{ task: 'add', args: [1, 2] }, { task: 'add', args: [3, 4], queue: 'x' }] }, limits);
    assert.deepEqual([...compilePlan(inherited, catalogue, { maxChunks: 100 }).queues], ['default', 'x']);
  });

  void it('places a `save` step where its node stands in the spec, as one more task', () => {
    const limits = { maxNodes: 100, maxDepth: 8 };
    const save = { name: 'out/x.json' };
    const spec = parseJobSpec({ group: [{ task: 'add', args: [1, 2], save }, { task: 'add', args: [3, 4] }] }, limits);
    const plan = compilePlan(spec, catalogue, { maxChunks: 100 });
    assert.equal(plan.taskCount, 3);
    const saved = plan.node('r.0');
    assert.ok(saved?.kind === 'chain');
    assert.deepEqual(
      saved.steps.map((step) => [step.id, step.pointer, step.kind === 'task' ? step.task : step.kind]),
      [
        ['r.0.0', '/group/0', 'add'],
        ['r.0.1', '/group/0/save', 'save'],
      ],
    );
    const root = compilePlan(parseJobSpec({ task: 'fail', save, queue: 'gpu' }, limits), catalogue, { maxChunks: 100 }).root;
    assert.ok(root.kind === 'chain');
    assert.deepEqual(root.steps.map((step) => step.pointer), ['', '/save']);
    // The step is the node's: its queue too.
    assert.deepEqual(root.steps.map((step) => (step.kind === 'task' ? step.options.queue : step.kind)), ['gpu', 'gpu']);
  });

  void it('passes labels down as defaults, a node keeping its own', () => {
    const limits = { maxNodes: 100, maxDepth: 8 };
    const mapReduce = { input: { range: { start: 0, end: 10 } }, map: { task: 'squares' }, reduce: { task: 'sum', label: 'total' } };
    const spec = parseJobSpec(
      { chain: [{ group: [{ task: 'add', args: [1, 2] }, { task: 'add', args: [1, 2], label: 'own' }], label: 'inner' }, { mapReduce }], label: 'outer' },
      limits,
    );
    const plan = compilePlan(spec, catalogue, { maxChunks: 100 });
    const labelOf = (id: string) => plan.node(id)?.label;
    assert.deepEqual([labelOf('r.0.0'), labelOf('r.0.1')], ['inner', 'own']);
    const mr = plan.node('r.1');
    assert.ok(mr?.kind === 'mapReduce');
    assert.deepEqual([mr.label, mr.map.label, mr.reduce.label], ['outer', 'outer', 'total']);
  });
});
