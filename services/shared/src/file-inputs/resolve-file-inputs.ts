/**
 * Turning the file inputs of a job spec into pinned files and splits, at submission.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { FileInputError, SpecLimitError, toPointer, type InputIssue } from '../errors.js';
import type { FileManifest } from '../file-store/file-manifest.js';
import { fileNameProblem } from '../file-store/file-names.js';
import type { FileStore } from '../file-store/file-store.js';
import type { JobNode, MapReduceNode } from '../spec/job-spec.js';
import type { FileSource } from './file-input-schemas.js';
import { GlobPattern, GlobSyntaxError, isGlobPattern, MAX_GLOBS_PER_INPUT } from './glob-pattern.js';
import { countFileSplits, planFileSplits, type SplittableSource } from './file-splits.js';
import { probeUrl } from './url-files.js';
import { findVolumeFiles } from './volume-files.js';

/** What resolving file inputs needs. */
export interface FileInputContext {
  readonly store: FileStore;
  /** Root of the shared volume; `undefined` when there is none. */
  readonly dataRoot: string | undefined;
  /** Whether `{"url": …}` inputs are allowed. @default true */
  readonly urlInputs?: boolean;
  /** Most splits one map-reduce may have; checked before they are made. @default no limit */
  readonly maxSplits?: number;
  readonly signal?: AbortSignal;
}

type MapReduceSpec = MapReduceNode['mapReduce'];

/**
 * Returns `spec` with every map-reduce file input (`file`, `path`, `url`) replaced by
 * its resolved form: the matching files, pinned (stored files by upload id), and
 * their splits. Lists keep their order; each glob's matches are sorted by name and a
 * file named twice counts once.
 * @throws FileInputError naming each input that matches nothing or cannot be read
 */
export async function resolveFileInputs(spec: JobNode, ctx: FileInputContext): Promise<JobNode> {
  const issues: InputIssue[] = [];
  const walk = async (node: JobNode, path: (string | number)[]): Promise<JobNode> => {
    if ('chain' in node) return { ...node, chain: await Promise.all(node.chain.map((c, i) => walk(c, [...path, 'chain', i]))) };
    if ('group' in node) return { ...node, group: await Promise.all(node.group.map((c, i) => walk(c, [...path, 'group', i]))) };
    if ('chord' in node) {
      const header = await Promise.all(node.chord.header.map((c, i) => walk(c, [...path, 'chord', 'header', i])));
      return { ...node, chord: { header, body: await walk(node.chord.body, [...path, 'chord', 'body']) } };
    }
    if ('mapReduce' in node) {
      const mr = node.mapReduce;
      const sources = await resolveSources(mr.input, ctx, [...path, 'mapReduce', 'input'], issues);
      if (!sources) return node;
      const options = { ...(mr.splitBytes === undefined ? {} : { splitBytes: mr.splitBytes }), ...(mr.chunks === undefined ? {} : { splits: mr.chunks }) };
      const count = countFileSplits(sources, options);
      if (ctx.maxSplits !== undefined && count > ctx.maxSplits) {
        const message = `the map-reduce would have ${count} splits; at most ${ctx.maxSplits} are allowed (raise splitBytes, or lower chunks)`;
        throw new SpecLimitError('maxChunks', ctx.maxSplits, toPointer([...path, 'mapReduce']), message);
      }
      const splits = planFileSplits(sources, options);
      const input = { files: { sources: sources.map((s) => s.source), splits } };
      return { ...node, mapReduce: { ...mr, input } };
    }
    return node;
  };
  const resolved = await walk(spec, []);
  if (issues.length > 0) throw new FileInputError(issues);
  return resolved;
}

async function resolveSources(
  input: MapReduceSpec['input'],
  ctx: FileInputContext,
  path: (string | number)[],
  issues: InputIssue[],
): Promise<SplittableSource[] | undefined> {
  const list = (value: string | string[]) => (Array.isArray(value) ? value : [value]);
  const at = (key: string, value: string | string[], i: number) => toPointer(Array.isArray(value) ? [...path, key, i] : [...path, key]);
  let found: SplittableSource[][];
  const named = 'file' in input ? { key: 'file', patterns: list(input.file) } : 'path' in input ? { key: 'path', patterns: list(input.path) } : undefined;
  if (named !== undefined && named.patterns.filter(isGlobPattern).length > MAX_GLOBS_PER_INPUT) {
    const message = `at most ${MAX_GLOBS_PER_INPUT} of an input's patterns may be globs; name the files, or match them with fewer patterns`;
    issues.push({ pointer: toPointer([...path, named.key]), message });
    return undefined;
  }
  if ('file' in input) {
    const patterns: (GlobPattern | undefined)[] = [];
    for (const [i, pattern] of list(input.file).entries()) {
      // A list of many long patterns takes a while to compile: not in one turn.
      if (i > 0 && i % PATTERNS_PER_TURN === 0) await nextTurn();
      patterns.push(parsePattern(pattern, at('file', input.file, i), issues));
    }
    // All stored files are listed once when some pattern is a glob.
    const listing = patterns.some((p) => p?.isGlob) ? await ctx.store.list() : [];
    found = await Promise.all(
      patterns.map(async (pattern, i) => {
        if (pattern === undefined) return [];
        const manifests = await matchStored(ctx.store, pattern, listing);
        if (manifests.length === 0) issues.push({ pointer: at('file', input.file, i), message: `no stored file matches ${JSON.stringify(pattern.source)}` });
        return manifests.map((manifest) => ({ source: storeSource(manifest), manifest }));
      }),
    );
  } else if ('path' in input) {
    const root = ctx.dataRoot;
    if (root === undefined) {
      issues.push({ pointer: toPointer([...path, 'path']), message: 'no shared volume is configured (WEFT_DATA_ROOT)' });
      return undefined;
    }
    found = await Promise.all(
      list(input.path).map(async (pattern, i) => {
        try {
          const files = await findVolumeFiles(root, pattern);
          if (files.length === 0) issues.push({ pointer: at('path', input.path, i), message: `no file on the shared volume matches ${JSON.stringify(pattern)}` });
          return files.map((f): SplittableSource => ({ source: { kind: 'volume', path: f.path, size: f.size, mtimeMs: f.mtimeMs } }));
        } catch (err) {
          issues.push({ pointer: at('path', input.path, i), message: err instanceof Error ? err.message : String(err) });
          return [];
        }
      }),
    );
  } else if ('url' in input) {
    if (ctx.urlInputs === false) {
      issues.push({ pointer: toPointer([...path, 'url']), message: 'URL inputs are turned off here (WEFT_URL_INPUTS)' });
      return undefined;
    }
    found = await Promise.all(
      list(input.url).map(async (url, i) => {
        try {
          const probe = await probeUrl(url, ctx.signal);
          const version = probe.etag === undefined ? {} : { etag: probe.etag };
          return [{ source: { kind: 'url', url, size: probe.size, ranged: probe.ranged && probe.size !== null, ...version } } satisfies SplittableSource];
        } catch (err) {
          issues.push({ pointer: at('url', input.url, i), message: `cannot read ${url}: ${err instanceof Error ? err.message : String(err)}` });
          return [];
        }
      }),
    );
  } else {
    return undefined;
  }
  const seen = new Set<string>();
  return found.flat().filter(({ source }) => {
    const key = JSON.stringify([source.kind, 'name' in source ? source.name : 'path' in source ? source.path : source.url]);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function parsePattern(pattern: string, pointer: string, issues: InputIssue[]): GlobPattern | undefined {
  try {
    return GlobPattern.parse(pattern);
  } catch (err) {
    if (!(err instanceof GlobSyntaxError)) throw err;
    issues.push({ pointer, message: `${JSON.stringify(pattern)} is not a valid pattern: ${err.message}` });
    return undefined;
  }
}

/** Names matched between turns of the event loop, so that a long listing does not hold it. */
const MATCHES_PER_TURN = 2048;
/** Patterns compiled between turns of the event loop. */
const PATTERNS_PER_TURN = 64;

async function matchStored(store: FileStore, pattern: GlobPattern, listing: readonly FileManifest[]): Promise<FileManifest[]> {
  if (!pattern.isGlob) {
    // No stored file has a name that is not valid; other errors (NATS did not answer) are not a missing file.
    const manifest = fileNameProblem(pattern.source) === undefined ? await store.stat(pattern.source) : undefined;
    return manifest ? [manifest] : [];
  }
  const matches: FileManifest[] = [];
  for (let i = 0; i < listing.length; i++) {
    if (i > 0 && i % MATCHES_PER_TURN === 0) await nextTurn();
    const manifest = listing[i] as FileManifest;
    if (pattern.matches(manifest.name)) matches.push(manifest);
  }
  return matches;
}

function storeSource(manifest: FileManifest): FileSource {
  return { kind: 'store', name: manifest.name, id: manifest.id, size: manifest.size };
}
