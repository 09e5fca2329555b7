import { hash32 } from './hash.ts';

/**
 * Feature encoding: profile traits → a fixed-length numeric vector.
 *
 * The spec shapes mirror the agent config's `features` (plugin/config/features.ts); they are
 * restated structurally here because the bandit core imports nothing from the rest of the project.
 *
 * Layout, in order: `intercept` (always 1), then per feature:
 * | type        | slots                                    | missing value                      |
 * | ----------- | ---------------------------------------- | ---------------------------------- |
 * | numeric     | value scaled to [0,1] by min/max, clipped; `missing` flag | value 0, flag 1    |
 * | categorical | one-hot per declared value, then `other` | all zero                           |
 * | hashed      | `buckets` one-hot slots (FNV-1a of the string) | all zero                     |
 * | boolean     | value (1/0); `missing` flag              | value 0, flag 1                    |
 * | recency     | time since the timestamp in `unit`, scaled by `max` and clipped; `missing` flag | value 1 (long ago), flag 1 |
 * | local_hour  | sin, cos of 2π·hour/24 in the profile's time zone | sin 0, cos 0               |
 * | local_weekday | sin, cos of 2π·weekday/7               | sin 0, cos 0                       |
 */
export type FeatureSpecLike =
  | { trait: string; type: 'numeric'; min: number; max: number }
  | { trait: string; type: 'categorical'; values: readonly string[] }
  | { trait: string; type: 'hashed'; buckets: number }
  | { trait: string; type: 'boolean' }
  | { trait: string; type: 'recency'; unit: 'hours' | 'days'; max: number }
  | { derived: 'local_hour' | 'local_weekday' };

export interface EncodeInput {
  traits: Readonly<Record<string, unknown>>;
  /** Decision time, epoch milliseconds (for recency). */
  now: number;
  /** Local hour 0–23 in the profile's time zone, computed by the caller. */
  localHour?: number;
  /** Local weekday 0 (Sunday)–6, computed by the caller. */
  localWeekday?: number;
}

const HOUR_MS = 3_600_000;
const TWO_PI = 2 * Math.PI;

/** Where one feature's slots are in the encoding: its name (trait or derived), first slot and count. */
export interface FeatureBlock {
  name: string;
  start: number;
  length: number;
}

export class FeatureEncoder {
  /** Number of slots written by `encode`. */
  readonly dim: number;
  /** One human-readable name per slot, e.g. `last_category=running`, `lifetime_orders`. */
  readonly names: readonly string[];
  /** Per slot, the feature it encodes: its trait or derived name (`intercept` for the first slot). */
  readonly sources: readonly string[];
  /** Per feature, in order, its slots (the intercept is slot 0, in no block). */
  readonly blocks: readonly FeatureBlock[];
  private readonly specs: readonly FeatureSpecLike[];
  private readonly categoryIndex: (Map<string, number> | undefined)[];

  constructor(specs: readonly FeatureSpecLike[]) {
    this.specs = specs;
    const names = ['intercept'];
    const sources = ['intercept'];
    const blocks: FeatureBlock[] = [];
    this.categoryIndex = specs.map((spec) => {
      const start = names.length;
      const index = this.slots(spec, names);
      const name = 'derived' in spec ? spec.derived : spec.trait;
      while (sources.length < names.length) sources.push(name);
      blocks.push({ name, start, length: names.length - start });
      return index;
    });
    this.blocks = blocks;
    this.names = names;
    this.dim = names.length;
    this.sources = sources;
  }

  /** Appends `spec`'s slot names; returns its category index (categorical features only). */
  private slots(spec: FeatureSpecLike, names: string[]): Map<string, number> | undefined {
    if ('derived' in spec) {
      names.push(`${spec.derived}:sin`, `${spec.derived}:cos`);
      return undefined;
    }
    switch (spec.type) {
      case 'numeric':
      case 'boolean':
      case 'recency':
        names.push(spec.trait, `${spec.trait}:missing`);
        return undefined;
      case 'categorical': {
        const index = new Map<string, number>();
        spec.values.forEach((v, i) => {
          index.set(v, i);
          names.push(`${spec.trait}=${v}`);
        });
        names.push(`${spec.trait}=other`);
        return index;
      }
      case 'hashed':
        for (let i = 0; i < spec.buckets; i++) names.push(`${spec.trait}#${i}`);
        return undefined;
    }
  }

  /** Writes the encoding into `out[offset … offset + dim)`. Allocates nothing. */
  encode(input: EncodeInput, out: Float64Array, offset = 0): void {
    let k = offset;
    out[k++] = 1;
    const traits = input.traits;
    for (let f = 0; f < this.specs.length; f++) {
      const spec = this.specs[f];
      if ('derived' in spec) {
        const v = spec.derived === 'local_hour' ? input.localHour : input.localWeekday;
        const period = spec.derived === 'local_hour' ? 24 : 7;
        if (v === undefined) {
          out[k++] = 0;
          out[k++] = 0;
        } else {
          out[k++] = Math.sin((TWO_PI * v) / period);
          out[k++] = Math.cos((TWO_PI * v) / period);
        }
        continue;
      }
      const raw = traits[spec.trait];
      switch (spec.type) {
        case 'numeric': {
          const v = toNumber(raw);
          if (v === undefined) {
            out[k++] = 0;
            out[k++] = 1;
          } else {
            out[k++] = clip01((v - spec.min) / (spec.max - spec.min));
            out[k++] = 0;
          }
          break;
        }
        case 'boolean': {
          const v = toBoolean(raw);
          out[k++] = v === true ? 1 : 0;
          out[k++] = v === undefined ? 1 : 0;
          break;
        }
        case 'recency': {
          const at = toTime(raw);
          if (at === undefined) {
            out[k++] = 1;
            out[k++] = 1;
          } else {
            const unitMs = spec.unit === 'days' ? 24 * HOUR_MS : HOUR_MS;
            out[k++] = clip01((input.now - at) / unitMs / spec.max);
            out[k++] = 0;
          }
          break;
        }
        case 'categorical': {
          const n = spec.values.length;
          for (let i = 0; i <= n; i++) out[k + i] = 0;
          if (raw !== undefined && raw !== null && raw !== '') {
            const i = this.categoryIndex[f]!.get(String(raw));
            out[k + (i ?? n)] = 1;
          }
          k += n + 1;
          break;
        }
        case 'hashed': {
          for (let i = 0; i < spec.buckets; i++) out[k + i] = 0;
          if (raw !== undefined && raw !== null && raw !== '') out[k + (hash32(String(raw)) % spec.buckets)] = 1;
          k += spec.buckets;
          break;
        }
      }
    }
  }
}

function clip01(v: number): number {
  return v < 0 ? 0 : v > 1 ? 1 : v;
}

function toNumber(raw: unknown): number | undefined {
  if (typeof raw === 'number') return Number.isFinite(raw) ? raw : undefined;
  if (typeof raw === 'string' && raw.trim() !== '') {
    const v = Number(raw);
    return Number.isFinite(v) ? v : undefined;
  }
  if (typeof raw === 'boolean') return raw ? 1 : 0;
  return undefined;
}

function toBoolean(raw: unknown): boolean | undefined {
  if (typeof raw === 'boolean') return raw;
  if (raw === 1 || raw === 'true' || raw === 'yes' || raw === '1') return true;
  if (raw === 0 || raw === 'false' || raw === 'no' || raw === '0') return false;
  return undefined;
}

/** Epoch ms from a number (seconds if below 1e11, else ms) or an ISO-8601 string. */
function toTime(raw: unknown): number | undefined {
  if (typeof raw === 'number' && Number.isFinite(raw)) return raw < 1e11 ? raw * 1000 : raw;
  if (typeof raw === 'string') {
    const t = Date.parse(raw);
    return Number.isNaN(t) ? undefined : t;
  }
  if (raw instanceof Date) return raw.getTime();
  return undefined;
}
