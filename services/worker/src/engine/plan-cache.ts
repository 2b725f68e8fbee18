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

/**
 * Compiled plans of recent jobs, loaded from the specs bucket on first use. Plans
 * are deterministic, so every worker derives the same node ids from the same spec.
 */
export class PlanCache {
  private readonly plans = new Map<string, Promise<Plan>>();

  constructor(
    private readonly specs: KV,
    private readonly values: ValueStore,
    private readonly catalogue: TaskCatalogue,
    /** Plans kept in memory at most. */
    private readonly capacity = 256,
  ) {}

  /**
   * The job's plan. `spec` (from the job's start item) is compiled when given;
   * otherwise the spec is read from the specs bucket.
   */
  get(jobId: string, spec?: StoredValue): Promise<Plan> {
    const cached = this.plans.get(jobId);
    if (cached) {
      // Refresh recency: Map iteration order is insertion order.
      this.plans.delete(jobId);
      this.plans.set(jobId, cached);
      return cached;
    }
    const loading = this.load(jobId, spec);
    this.plans.set(jobId, loading);
    loading.catch(() => this.plans.delete(jobId));
    while (this.plans.size > this.capacity) {
      const oldest = this.plans.keys().next().value;
      if (oldest === undefined) break;
      this.plans.delete(oldest);
    }
    return loading;
  }

  /** Makes the spec readable by every worker (idempotent). */
  async share(jobId: string, spec: StoredValue): Promise<void> {
    try {
      await this.specs.create(jobId, encodeWire(spec));
    } catch (err) {
      if (!isWrongLastSequence(err)) throw err;
    }
  }

  private async load(jobId: string, given?: StoredValue): Promise<Plan> {
    let stored = given;
    if (!stored) {
      const entry = await this.specs.get(jobId);
      if (!entry || entry.operation !== 'PUT') throw new Error(`spec of job ${jobId} not found`);
      stored = parseMessage(StoredValueSchema, decodeWire(entry.string()), 'stored spec');
    }
    const spec = parseJobSpec(await this.values.load(stored), TRUSTED_LIMITS, { allowResolvedInputs: true });
    return compilePlan(spec, this.catalogue, TRUSTED_PLAN_OPTIONS);
  }
}
