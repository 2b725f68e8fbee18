import type { KV } from '@nats-io/kv';
import {
  compilePlan,
  decodeWire,
  encodeWire,
  isWrongLastSequence,
  parseJobSpec,
  parseMessage,
  StoredValueSchema,
  type Plan,
  type StoredValue,
  type TaskCatalogue,
  type ValueStore,
} from '@weft/shared';

/** Generous limits, and no second check of every item: specs were checked on submission. */
const TRUSTED_LIMITS = { maxNodes: 10_000_000, maxDepth: 1024 } as const;
const TRUSTED_PLAN_OPTIONS = { maxChunks: Number.MAX_SAFE_INTEGER, checkAllItems: false } as const;

/** Bounds of a {@link PlanCache}. */
export interface PlanCacheOptions {
  /** Plans kept at most. @default 256 */
  readonly maxPlans?: number;
  /**
   * Plans kept at most by the memory they take, estimated from their specs' sizes
   * and their nodes (see {@link planMemoryBytes}), in bytes. Plans in use, and the
   * one loaded last, are kept whatever their size. @default 64 MiB
   */
  readonly maxBytes?: number;
  /**
   * Whether the plan of job `jobId` is in use (work items of the job are being
   * processed): dropping it would only have it loaded again, a second copy beside
   * the one in use. @default never
   */
  readonly inUse?: (jobId: string) => boolean;
}

/** A cached plan, and its estimated memory (0 until it is compiled). */
interface Cached {
  readonly plan: Promise<Plan>;
  readonly bytes: number;
}

/**
 * Estimated memory of a compiled plan, in bytes: its spec's values (arguments, inline
 * items), decoded, and some 300 bytes per node. Measured on Node.js 20: a group of
 * 20,000 `add` tasks (614 KB of spec) takes 6.5 MB, ~330 bytes a node; a map-reduce
 * over 100,000 inline items (575 KB) 0.8 MB.
 */
export function planMemoryBytes(specBytes: number, nodeCount: number): number {
  return Math.ceil(1.5 * specBytes) + 300 * nodeCount;
}

/**
 * Compiled plans of recent jobs, loaded from the specs bucket on first use, the least
 * recently used dropped first (unless in use). Plans are deterministic, so every
 * worker derives the same node ids from the same spec.
 */
export class PlanCache {
  /** By job id, least recently used first (a Map iterates in insertion order). */
  private readonly plans = new Map<string, Cached>();
  private bytes = 0;
  private readonly maxPlans: number;
  private readonly maxBytes: number;
  private readonly inUse: (jobId: string) => boolean;

  constructor(
    private readonly specs: KV,
    private readonly values: ValueStore,
    private readonly catalogue: TaskCatalogue,
    options: PlanCacheOptions = {},
  ) {
    this.maxPlans = options.maxPlans ?? 256;
    this.maxBytes = options.maxBytes ?? 64 * 1024 * 1024;
    this.inUse = options.inUse ?? (() => false);
  }

  /**
   * The job's plan. `spec` (from the job's start item) is compiled when given;
   * otherwise the spec is read from the specs bucket.
   */
  get(jobId: string, spec?: StoredValue): Promise<Plan> {
    const cached = this.plans.get(jobId);
    if (cached) {
      this.plans.delete(jobId);
      this.plans.set(jobId, cached);
      return cached.plan;
    }
    const loading = this.load(jobId, spec);
    loading.catch(() => this.forget(jobId, loading));
    return loading;
  }

  /** Drops the job's plan (its job ended): memory goes to plans still in use. */
  forget(jobId: string, plan?: Promise<Plan>): void {
    const cached = this.plans.get(jobId);
    if (!cached || (plan !== undefined && cached.plan !== plan)) return;
    this.plans.delete(jobId);
    this.bytes -= cached.bytes;
  }

  /** Plans held now. */
  get size(): number {
    return this.plans.size;
  }

  /** Makes the spec readable by every worker (idempotent). */
  async share(jobId: string, spec: StoredValue): Promise<void> {
    try {
      await this.specs.create(jobId, encodeWire(spec));
    } catch (err) {
      if (!isWrongLastSequence(err)) throw err;
    }
  }

  private load(jobId: string, given?: StoredValue): Promise<Plan> {
    const stored = given ? Promise.resolve(given) : this.readSpec(jobId);
    const plan: Promise<Plan> = stored.then(async (spec) => {
      const parsed = parseJobSpec(await this.values.load(spec), TRUSTED_LIMITS, { allowResolvedInputs: true });
      const compiled = compilePlan(parsed, this.catalogue, TRUSTED_PLAN_OPTIONS);
      // Weighed once compiled: a stored spec says its size, an inline one is measured.
      const specBytes = 'bytes' in spec ? spec.bytes : 'v' in spec ? encodeWire(spec.v).length : 0;
      this.weigh(jobId, plan, planMemoryBytes(specBytes, compiled.nodeCount));
      return compiled;
    });
    this.plans.set(jobId, { plan, bytes: 0 });
    return plan;
  }

  private async readSpec(jobId: string): Promise<StoredValue> {
    const entry = await this.specs.get(jobId);
    if (!entry || entry.operation !== 'PUT') throw new Error(`spec of job ${jobId} not found`);
    return parseMessage(StoredValueSchema, decodeWire(entry.string()), 'stored spec');
  }

  /** Records the memory of a plan just compiled, and drops the least recently used other plans beyond the bounds. */
  private weigh(jobId: string, plan: Promise<Plan>, bytes: number): void {
    if (this.plans.get(jobId)?.plan !== plan) return; // dropped meanwhile
    // Set again under its key, it keeps its place in the order.
    this.plans.set(jobId, { plan, bytes });
    this.bytes += bytes;
    for (const [oldest, { bytes: weight }] of this.plans) {
      const tooMany = this.plans.size > this.maxPlans;
      if (!tooMany && this.bytes <= this.maxBytes) break;
      // Too large: only plans of some weight are worth dropping.
      if (oldest !== jobId && (tooMany || weight > 0) && !this.inUse(oldest)) this.forget(oldest);
    }
  }
}
