import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import {
  builtinTasks,
  defineTask,
  isPermanentTaskError,
  PermanentTaskError,
  TaskCatalogue,
} from '../../src/tasks/index.js';
import { catalogue } from './helpers.js';

const EXPECTED = [
  'add',
  'multiply',
  'sum',
  'squares',
  'sum-of-squares',
  'sleep',
  'fibonacci',
  'count-primes',
  'echo',
  'fail',
  'word-count',
  'text-stats',
  'grep',
  'line-count',
  'transform',
  'save',
  'checksum',
];

void describe('TaskCatalogue', () => {
  void it('holds the built-in tasks', () => {
    assert.deepEqual(catalogue.names(), EXPECTED);
    assert.equal(catalogue.list().length, builtinTasks.length);
    assert.equal(catalogue.get('add')?.name, 'add');
    assert.equal(catalogue.get('nope'), undefined);
    assert.equal(catalogue.has('sum'), true);
  });

  void it('marks the heavy tasks as CPU-bound', () => {
    const cpuBound = catalogue.list().filter((task) => task.cpuBound).map((task) => task.name);
    assert.deepEqual(cpuBound.sort(), [
      'count-primes',
      'fibonacci',
      'grep',
      'squares',
      'sum-of-squares',
      'text-stats',
      'transform',
      'word-count',
    ]);
  });

  void it('gives every task a one-sentence description', () => {
    for (const task of catalogue.list()) assert.match(task.description, /^[A-Z].*\.$/, task.name);
  });

  void it('converts every argument schema to JSON Schema', () => {
    for (const task of catalogue.list()) {
      const schema = z.toJSONSchema(task.args, { unrepresentable: 'any' });
      assert.equal(schema.type, 'array', task.name);
      assert.doesNotThrow(() => JSON.stringify(schema), task.name);
    }
    const described = catalogue.describe();
    assert.deepEqual(described.map((task) => task.name), EXPECTED);
    const add = described.find((task) => task.name === 'add');
    assert.deepEqual(add?.args['prefixItems'], [
      { type: ['number', 'integer'], description: 'a' },
      { type: ['number', 'integer'], description: 'b' },
    ]);
    const sum = described.find((task) => task.name === 'sum');
    assert.match(JSON.stringify(sum?.args), /"start"/);
    // A bounded argument keeps its bounds in both of its forms.
    const sleep = described.find((task) => task.name === 'sleep');
    assert.deepEqual((sleep?.args['prefixItems'] as { anyOf?: unknown[] }[] | undefined)?.[0]?.anyOf, [
      { type: 'number', minimum: 0, maximum: 3_600_000 },
      { type: 'integer', minimum: 0, maximum: 3_600_000 },
    ]);
    assert.equal(catalogue.describe(), described, 'computed once');
  });

  void it('rejects duplicate and non-kebab-case names', () => {
    const task = defineTask({ name: 'x', description: 'X.', cpuBound: false, args: z.tuple([]), run: () => null });
    assert.throws(() => new TaskCatalogue([task, task]), /duplicate/);
    assert.throws(() => new TaskCatalogue([{ ...task, name: 'Not_Kebab' }]), /kebab-case/);
  });

  void it('parses valid arguments', () => {
    assert.deepEqual(catalogue.parseArgs('add', [1, 2n]), { ok: true, args: [1, 2n] });
  });

  void it('reports invalid arguments with their path and a message', () => {
    const result = catalogue.parseArgs('count-primes', [[1, 2, 'x']]);
    assert.equal(result.ok, false);
    assert.deepEqual(!result.ok && result.issues.map((issue) => issue.path), [[0, 2]]);
    const notAList = catalogue.parseArgs('sum', [true]);
    assert.ok(!notAList.ok);
    assert.deepEqual(notAList.issues[0]?.path, [0]);
    assert.match(notAList.issues[0]?.message ?? '', /list/);
  });

  void it('reports an unknown task', () => {
    assert.deepEqual(catalogue.parseArgs('nope', []), { ok: false, issues: [{ path: [], message: 'unknown task "nope"' }] });
  });
});

void describe('PermanentTaskError', () => {
  void it('carries its code and cause', () => {
    const cause = new Error('root');
    const error = new PermanentTaskError('bad input', { cause });
    assert.equal(error.code, 'TASK_PERMANENT_FAILURE');
    assert.equal(error.name, 'PermanentTaskError');
    assert.equal(error.cause, cause);
    assert.ok(error instanceof Error);
    assert.ok(isPermanentTaskError(error));
    assert.ok(!isPermanentTaskError(new Error('x')));
  });
});
