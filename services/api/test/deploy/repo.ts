/**
 * The repository the deployment tests check, and a way to run its scripts.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

function findRepoRoot(): string {
  const start = path.dirname(fileURLToPath(import.meta.url));
  for (let dir = start; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'charts', 'weft', 'Chart.yaml'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`charts/weft/Chart.yaml not found above ${start}`);
  }
}

/** The repository root (where `charts/weft` is). */
export const REPO_ROOT = findRepoRoot();

/** What a finished command left behind. */
export interface CommandResult {
  /** Exit code; null when a signal ended it. */
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Options of {@link runCommand}. */
export interface RunOptions {
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly input?: string;
  /** Kill the command after this long, in milliseconds. @default 120000 */
  readonly timeoutMs?: number;
}

/** Runs a command to its end and resolves with its exit code and output; never rejects on a non-zero exit. */
export function runCommand(command: string, args: readonly string[], options: RunOptions = {}): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      command,
      args,
      {
        cwd: options.cwd ?? REPO_ROOT,
        env: options.env ?? process.env,
        timeout: options.timeoutMs ?? 120_000,
        maxBuffer: 64 * 1024 * 1024,
        encoding: 'utf8',
      },
      (error, stdout, stderr) => {
        if (error !== null && typeof error.code !== 'number' && error.signal === undefined) {
          reject(new Error(`${command} could not be run: ${error.message}`, { cause: error }));
          return;
        }
        resolve({ code: child.exitCode, stdout, stderr });
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

/** Describes a result for an assertion message. */
export function describeResult(what: string, result: CommandResult): string {
  return `${what} exited with ${String(result.code)}\n--- stdout ---\n${result.stdout}\n--- stderr ---\n${result.stderr}`;
}
