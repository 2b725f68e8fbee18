/**
 * Runs a Dockerfile's stages without Docker: every stage gets a directory standing
 * for its root file system, COPY copies into it (from the build context or an
 * earlier stage), RUN runs the command with `sh -c` in the stage's WORKDIR with its
 * ENV. The base image's tools (node, npm) are this machine's. Identical stages
 * (same base, same instructions, same context) are built once, as Docker's cache would.
 */
import { createHash } from 'node:crypto';
import { cp, mkdir, mkdtemp, stat } from 'node:fs/promises';
import path from 'node:path';
import { envPairs, execForm, type Dockerfile, type Instruction, type Stage } from './dockerfile.js';
import { runCommand } from './repo.js';

/** What the last stage of a Dockerfile leaves: its file system and its runtime settings. */
export interface BuiltImage {
  /** Directory standing for the image's `/`. */
  readonly root: string;
  /** WORKDIR, inside the image. */
  readonly workdir: string;
  readonly env: Readonly<Record<string, string>>;
  readonly user: string | undefined;
  /** CMD in exec form. */
  readonly cmd: readonly string[] | undefined;
  readonly entrypoint: readonly string[] | undefined;
  readonly expose: readonly string[];
}

/** A built stage. */
interface StageResult extends BuiltImage {
  readonly name: string | undefined;
}

/** Options of {@link DockerBuilder}. */
export interface DockerBuilderOptions {
  /** The build context directory. */
  readonly context: string;
  /** Where stage directories go. */
  readonly workDir: string;
  /** Environment of RUN commands besides the stage's ENV (the base image's environment). */
  readonly baseEnv: Readonly<Record<string, string>>;
  /** Longest time one RUN may take, in milliseconds. */
  readonly runTimeoutMs: number;
}

/** Builds Dockerfiles from one context, sharing identical stages between them. */
export class DockerBuilder {
  private readonly cache = new Map<string, Promise<StageResult>>();
  /** One line per RUN step run (cached stages add none), with its duration. */
  readonly timings: string[] = [];

  constructor(private readonly options: DockerBuilderOptions) {}

  /**
   * Builds the stages of `dockerfile` and resolves with the last one. As BuildKit
   * does, a stage waits only for the stages it copies from, so independent stages
   * run at the same time.
   */
  async build(dockerfile: Dockerfile): Promise<BuiltImage> {
    const built: Promise<{ result: StageResult; key: string }>[] = [];
    for (const stage of dockerfile.stages) {
      const sources = new Map<string, number>();
      for (const instruction of stage.instructions) {
        const from = instruction.flags['from'];
        if (from === undefined) continue;
        const index = dockerfile.stages.findIndex((s) => s.name === from || String(s.index) === from);
        if (index < 0 || index >= stage.index) throw new Error(`line ${instruction.line}: COPY --from=${from} names no earlier stage`);
        sources.set(from, index);
      }
      if (dockerfile.stages.some((s) => s.name === stage.base)) throw new Error(`FROM ${stage.base}: stages based on stages are not supported`);
      built.push(
        (async () => {
          const dependencies = new Map<string, { result: StageResult; key: string }>();
          for (const [from, index] of sources) dependencies.set(from, await (built[index] as Promise<{ result: StageResult; key: string }>));
          // The key covers the stages this one copies from, through their own keys.
          const key = createHash('sha256')
            .update(
              JSON.stringify({
                base: stage.base,
                instructions: stage.instructions.map((i) => [i.keyword, i.flags, i.args]),
                sources: [...dependencies].map(([from, d]) => [from, d.key]),
              }),
            )
            .digest('hex');
          let result = this.cache.get(key);
          if (result === undefined) {
            result = this.buildStage(stage, (from) => dependencies.get(from)?.result);
            this.cache.set(key, result);
          }
          return { result: await result, key };
        })(),
      );
    }
    const results = await Promise.all(built);
    const last = results.at(-1);
    if (last === undefined) throw new Error('no stages');
    return last.result;
  }

  private async buildStage(stage: Stage, stageNamed: (from: string) => StageResult | undefined): Promise<StageResult> {
    const root = await mkdtemp(path.join(this.options.workDir, `stage-${stage.name ?? stage.index}-`));
    let workdir = '/';
    const env: Record<string, string> = {};
    let user: string | undefined;
    let cmd: string[] | undefined;
    let entrypoint: string[] | undefined;
    const expose: string[] = [];
    const inStage = (p: string) => path.join(root, path.posix.resolve(workdir, p));

    for (const instruction of stage.instructions) {
      const where = `line ${instruction.line} (${instruction.keyword} ${instruction.args})`;
      switch (instruction.keyword) {
        case 'WORKDIR':
          workdir = path.posix.resolve(workdir, instruction.args);
          await mkdir(inStage('.'), { recursive: true });
          break;
        case 'ENV':
          for (const [name, value] of envPairs(instruction)) env[name] = value;
          break;
        case 'USER':
          user = instruction.args;
          break;
        case 'EXPOSE':
          expose.push(...instruction.args.split(/\s+/));
          break;
        case 'LABEL':
          break;
        case 'CMD':
        case 'ENTRYPOINT': {
          const form = execForm(instruction);
          if (form === undefined) throw new Error(`${where}: use the exec form (a JSON array) so that node is PID 1 and gets SIGTERM`);
          if (instruction.keyword === 'CMD') cmd = form;
          else entrypoint = form;
          break;
        }
        case 'COPY':
          await this.copy(instruction, stageNamed, inStage, where);
          break;
        case 'RUN':
          await this.run(instruction, inStage('.'), env, where);
          break;
        default:
          throw new Error(`${where}: not supported in a stage`);
      }
    }
    return { name: stage.name, root, workdir, env, user, cmd, entrypoint, expose };
  }

  private async copy(
    instruction: Instruction,
    stageNamed: (from: string) => StageResult | undefined,
    inStage: (p: string) => string,
    where: string,
  ): Promise<void> {
    for (const flag of Object.keys(instruction.flags)) {
      if (flag !== 'from' && flag !== 'chown') throw new Error(`${where}: COPY --${flag} is not supported`);
    }
    const parts = instruction.args.split(/\s+/);
    const dest = parts.pop();
    if (dest === undefined || parts.length === 0) throw new Error(`${where}: COPY needs a source and a destination`);
    const from = instruction.flags['from'];
    let sourceRoot = this.options.context;
    if (from !== undefined) {
      const stage = stageNamed(from);
      if (stage === undefined) throw new Error(`${where}: no stage ${from}`);
      sourceRoot = stage.root;
    }
    for (const source of parts) {
      if (/[*?[]/.test(source)) throw new Error(`${where}: wildcards in COPY sources are not supported`);
      const sourcePath = path.join(sourceRoot, from === undefined ? source : path.posix.resolve('/', source));
      const info = await stat(sourcePath).catch(() => undefined);
      if (info === undefined) {
        throw new Error(
          from === undefined
            ? `${where}: ${source} is not in the build context (missing, or left out by .dockerignore)`
            : `${where}: ${source} does not exist in stage ${from}`,
        );
      }
      let target = inStage(dest);
      if (info.isFile() && (dest.endsWith('/') || parts.length > 1)) target = path.join(target, path.basename(source));
      else if (!info.isFile() && parts.length > 1) throw new Error(`${where}: several directory sources are not supported`);
      await mkdir(info.isFile() ? path.dirname(target) : target, { recursive: true });
      // Directories are copied by content, as Docker does; symlinks stay symlinks.
      await cp(sourcePath, target, { recursive: true, verbatimSymlinks: true });
    }
  }

  private async run(instruction: Instruction, cwd: string, env: Record<string, string>, where: string): Promise<void> {
    for (const [flag, value] of Object.entries(instruction.flags)) {
      if (flag !== 'mount' || !value.startsWith('type=cache,')) throw new Error(`${where}: RUN --${flag}=${value} is not supported`);
    }
    const exec = execForm(instruction);
    const [command, args] = exec === undefined ? ['sh', ['-c', instruction.args]] : [exec[0] ?? '', exec.slice(1)];
    const started = performance.now();
    const result = await runCommand(command, args, { cwd, env: { ...this.options.baseEnv, ...env }, timeoutMs: this.options.runTimeoutMs });
    this.timings.push(`${where}: ${((performance.now() - started) / 1000).toFixed(1)} s`);
    if (result.code !== 0) {
      throw new Error(`${where} failed with exit code ${String(result.code)}\n--- output ---\n${result.stdout}\n${result.stderr}`);
    }
  }
}
