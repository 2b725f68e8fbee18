/**
 * A Dockerfile parser for the instructions Weft's Dockerfiles use. Anything else is
 * an error, so that a Dockerfile cannot grow a step the build test does not run.
 */

/** One instruction, with its `--flag=value` options split off. */
export interface Instruction {
  /** Upper-case keyword: FROM, RUN, COPY, ... */
  readonly keyword: string;
  /** The text after the keyword and the flags, continuation lines joined. */
  readonly args: string;
  readonly flags: Readonly<Record<string, string>>;
  /** Line number of the instruction's first line. */
  readonly line: number;
}

/** A build stage: `FROM base [AS name]` and the instructions up to the next FROM. */
export interface Stage {
  readonly index: number;
  readonly name: string | undefined;
  /** The base image, with ARG defaults substituted. */
  readonly base: string;
  readonly instructions: readonly Instruction[];
}

/** A parsed Dockerfile. */
export interface Dockerfile {
  /** ARGs declared before the first FROM, with their defaults. */
  readonly args: ReadonlyMap<string, string>;
  readonly stages: readonly Stage[];
}

const KNOWN = new Set(['ARG', 'FROM', 'WORKDIR', 'COPY', 'RUN', 'ENV', 'USER', 'EXPOSE', 'CMD', 'ENTRYPOINT', 'LABEL']);

/** Splits leading `--name=value` flags off an instruction's arguments. */
function splitFlags(text: string): { flags: Record<string, string>; rest: string } {
  const flags: Record<string, string> = {};
  let rest = text;
  for (let match = /^--([a-z-]+)=(\S+)\s+/.exec(rest); match !== null; match = /^--([a-z-]+)=(\S+)\s+/.exec(rest)) {
    flags[match[1] ?? ''] = match[2] ?? '';
    rest = rest.slice(match[0].length);
  }
  return { flags, rest: rest.trim() };
}

/** Replaces `${NAME}` and `$NAME` with ARG values. @throws on an undeclared name */
function substitute(text: string, args: ReadonlyMap<string, string>, line: number): string {
  return text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (_, braced: string | undefined, bare: string | undefined) => {
    const name = braced ?? bare ?? '';
    const value = args.get(name);
    if (value === undefined) throw new Error(`line ${line}: $${name} is not a declared ARG with a default`);
    return value;
  });
}

/** Parses Dockerfile text. @throws on instructions or forms the build test cannot run */
export function parseDockerfile(text: string): Dockerfile {
  const logical: { text: string; line: number }[] = [];
  let pending: { text: string; line: number } | undefined;
  text.split('\n').forEach((raw, i) => {
    const trimmed = raw.trim();
    if (pending === undefined && (trimmed === '' || trimmed.startsWith('#'))) return;
    if (pending !== undefined && trimmed.startsWith('#')) return;
    const continued = trimmed.endsWith('\\');
    const piece = continued ? trimmed.slice(0, -1).trim() : trimmed;
    pending = pending === undefined ? { text: piece, line: i + 1 } : { text: `${pending.text} ${piece}`, line: pending.line };
    if (!continued) {
      logical.push(pending);
      pending = undefined;
    }
  });
  if (pending !== undefined) throw new Error(`line ${pending.line}: the file ends inside a continued line`);

  const args = new Map<string, string>();
  const stages: { index: number; name: string | undefined; base: string; instructions: Instruction[] }[] = [];
  for (const { text: line, line: number } of logical) {
    const space = line.search(/\s/);
    const keyword = (space < 0 ? line : line.slice(0, space)).toUpperCase();
    if (!KNOWN.has(keyword)) throw new Error(`line ${number}: ${keyword} is not supported by the build test`);
    const { flags, rest } = splitFlags(space < 0 ? '' : line.slice(space + 1).trim());
    if (keyword === 'FROM') {
      const match = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(rest);
      if (match === null) throw new Error(`line ${number}: cannot read FROM ${rest}`);
      stages.push({ index: stages.length, name: match[2], base: substitute(match[1] ?? '', args, number), instructions: [] });
      continue;
    }
    const stage = stages.at(-1);
    if (stage === undefined) {
      if (keyword !== 'ARG') throw new Error(`line ${number}: ${keyword} before the first FROM`);
      const [name, value] = rest.split('=', 2);
      if (name === undefined || value === undefined) throw new Error(`line ${number}: ARG ${rest} needs a default`);
      args.set(name, value);
      continue;
    }
    stage.instructions.push({ keyword, args: rest, flags, line: number });
  }
  if (stages.length === 0) throw new Error('no FROM instruction');
  return { args, stages };
}

/** The JSON array of an exec-form CMD, ENTRYPOINT or RUN; undefined for the shell form. */
export function execForm(instruction: Instruction): string[] | undefined {
  if (!instruction.args.startsWith('[')) return undefined;
  const parsed: unknown = JSON.parse(instruction.args);
  if (!Array.isArray(parsed) || !parsed.every((p) => typeof p === 'string')) {
    throw new Error(`line ${instruction.line}: ${instruction.keyword} must be a JSON array of strings`);
  }
  return parsed;
}

/** `ENV` pairs: `KEY=value ...` (values may be double-quoted) or the legacy `KEY value`. */
export function envPairs(instruction: Instruction): [string, string][] {
  const text = instruction.args;
  if (!/^[A-Za-z_][A-Za-z0-9_]*=/.test(text)) {
    const space = text.search(/\s/);
    if (space < 0) throw new Error(`line ${instruction.line}: ENV ${text} has no value`);
    return [[text.slice(0, space), text.slice(space + 1).trim()]];
  }
  const pairs: [string, string][] = [];
  for (const match of text.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("(?:[^"\\]|\\.)*"|\S*)/g)) {
    const raw = match[2] ?? '';
    pairs.push([match[1] ?? '', raw.startsWith('"') ? (JSON.parse(raw) as string) : raw]);
  }
  return pairs;
}
