/**
 * The Docker build context, made without Docker: the repository's files (tracked,
 * and untracked ones git does not ignore) that .dockerignore lets through.
 */
import { copyFile, mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { runCommand } from './repo.js';

/** One .dockerignore line: its pattern as a regular expression, and whether it starts with `!`. */
interface IgnoreRule {
  readonly pattern: RegExp;
  readonly exception: boolean;
}

/** Translates a .dockerignore pattern (Go's filepath.Match plus `**`) into a regular expression. */
function patternToRegExp(pattern: string): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i] ?? '';
    if (char === '*' && pattern[i + 1] === '*') {
      // `**` matches any number of directories, including none.
      source += '.*';
      i++;
      if (pattern[i + 1] === '/') i++;
    } else if (char === '*') {
      source += '[^/]*';
    } else if (char === '?') {
      source += '[^/]';
    } else if (char === '[') {
      const end = pattern.indexOf(']', i);
      if (end < 0) throw new Error(`.dockerignore: unterminated [ in ${pattern}`);
      source += `[${pattern.slice(i + 1, end).replace(/^!/, '^')}]`;
      i = end;
    } else {
      source += char.replace(/[.+^${}()|\\]/g, '\\$&');
    }
  }
  return new RegExp(`^${source}$`);
}

/** Parses .dockerignore text. */
export function parseDockerignore(text: string): IgnoreRule[] {
  const rules: IgnoreRule[] = [];
  for (const raw of text.split('\n')) {
    let line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const exception = line.startsWith('!');
    if (exception) line = line.slice(1).trim();
    line = path.posix.normalize(line).replace(/^\/+/, '').replace(/\/+$/, '');
    rules.push({ pattern: patternToRegExp(line), exception });
  }
  return rules;
}

/**
 * Whether Docker leaves `file` (relative, with `/`) out of the context: the last rule
 * matching the file or one of its parent directories decides, as in Docker.
 */
export function isIgnored(rules: readonly IgnoreRule[], file: string): boolean {
  const parts = file.split('/');
  const candidates = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
  let ignored = false;
  for (const rule of rules) {
    if (candidates.some((candidate) => rule.pattern.test(candidate))) ignored = !rule.exception;
  }
  return ignored;
}

/** The repository's files, relative: tracked ones that exist, and untracked ones git does not ignore. */
export async function repositoryFiles(repoRoot: string): Promise<string[]> {
  const result = await runCommand('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], { cwd: repoRoot });
  if (result.code !== 0) throw new Error(`git ls-files failed: ${result.stderr}`);
  const files: string[] = [];
  for (const file of new Set(result.stdout.split('\0').filter((f) => f !== ''))) {
    const info = await stat(path.join(repoRoot, file)).catch(() => undefined);
    if (info?.isFile()) files.push(file);
  }
  return files.sort();
}

/** Copies the files .dockerignore lets through into `dest`; resolves with their relative paths. */
export async function createBuildContext(repoRoot: string, rules: readonly IgnoreRule[], dest: string): Promise<string[]> {
  const files = (await repositoryFiles(repoRoot)).filter((file) => !isIgnored(rules, file));
  for (const file of files) {
    await mkdir(path.dirname(path.join(dest, file)), { recursive: true });
    await copyFile(path.join(repoRoot, file), path.join(dest, file));
  }
  return files;
}
