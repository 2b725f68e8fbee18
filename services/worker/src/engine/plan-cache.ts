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
   * Plans kept at most by the size of their specs, in bytes (a plan takes one to
   * three times its spec's size in memory). Plans in use, and the one loaded last,
   * are kept whatever their size. @default 64 MiB
   */
  readonly maxSpecBytes?: number;
  /**
   * Whether the plan of job `jobId` is in use (work items of the job are being
   * processed): dropping it would only have it loaded again, a second copy beside
   * the one in use. @default never
   */
  readonly inUse?: (jobId: string) => boolean;
}

/** A cached plan, and the size of its spec. */
interface Cached {
  readonly plan: Promise<Plan>;
  readonly specBytes: number;
}

/**
 * Compiled plans of recent jobs, loaded from the specs bucket on first use, the least
 * recently used dropped first (unless in use). Plans are deterministic, so every
 * worker derives the same node ids from the same spec.
 */
export class PlanCache {
  /** By job id, least recently used first (a Map iterates in insertion order). */
  private readonly plans = new Map<string, Cached>();
  private specBytes = 0;
  private readonly maxPlans: number;
  private readonly maxSpecBytes: number;
  private readonly inUse: (jobId: string) => boolean;

  constructor(
    private readonly specs: KV,
    private readonly values: ValueStore,
    private readonly catalogue: TaskCatalogue,
    options: PlanCacheOptions = {},
  ) {
    this.maxPlans = options.maxPlans ?? 256;
    this.maxSpecBytes = options.maxSpecBytes ?? 64 * 1024 * 1024;
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
    this.specBytes -= cached.specBytes;
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
    const plan = stored.then(async (spec) => {
      const parsed = parseJobSpec(await this.values.load(spec), TRUSTED_LIMITS, { allowResolvedInputs: true });
      return compilePlan(parsed, this.catalogue, TRUSTED_PLAN_OPTIONS);
    });
    this.plans.set(jobId, { plan, specBytes: 0 });
    // Weighed once the spec's size is known: a stored one says it, an inline one is measured.
    void stored.then(
      (spec) => this.weigh(jobId, plan, 'bytes' in spec ? spec.bytes : 'v' in spec ? encodeWire(spec.v).length : 0),
      () => undefined,
    );
    return plan;
  }

  private async readSpec(jobId: string): Promise<StoredValue> {
    const entry = await this.specs.get(jobId);
    if (!entry || entry.operation !== 'PUT') throw new Error(`spec of job ${jobId} not found`);
    return parseMessage(StoredValueSchema, decodeWire(entry.string()), 'stored spec');
  }

  /** Records the spec size of a plan being loaded, and drops the least recently used other plans beyond the bounds. */
  private weigh(jobId: string, plan: Promise<Plan>, specBytes: number): void {
    if (this.plans.get(jobId)?.plan !== plan) return; // dropped meanwhile
    // Set again under its key, it keeps its place in the order.
    this.plans.set(jobId, { plan, specBytes });
    this.specBytes += specBytes;
    for (const [oldest, { specBytes: weight }] of this.plans) {
      const tooMany = this.plans.size > this.maxPlans;
      if (!tooMany && this.specBytes <= this.maxSpecBytes) break;
      // Too large: only plans of some weight are worth dropping.
      if (oldest !== jobId && (tooMany || weight > 0) && !this.inUse(oldest)) this.forget(oldest);
    }
  }
}
