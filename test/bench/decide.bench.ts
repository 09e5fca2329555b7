import {
  createAgentModel,
  decide,
  learn,
  validateConfig,
  type AgentConfig,
  type Decision,
} from '../../plugin/agent/index.ts';
import { Rng } from '../../plugin/bandit/index.ts';
import { row, timeCalls, type Timing } from './stats.ts';

/**
 * One decision over 4 dimensions × 12 arms × 32 features (featurize, guardrails, probabilities
 * and sampling included) and one learn step, beside the floor: the same arithmetic as a bare
 * Float64Array loop (per dimension j, d_j = 32 + 12·j because later dimensions see earlier
 * choices; per arm one d×d matrix–vector product and a dot product to decide, and one
 * matrix–vector product plus one rank-one update to learn).
 */

const ARMS = 12;
const DIMS = 4;

function benchAgent(kind: string): AgentConfig {
  const arms = (p: string) => Array.from({ length: ARMS }, (_, i) => `${p}${i}`);
  const result = validateConfig({
    workspace: 'bench',
    agents: [
      {
        id: 'bench',
        goal: { window: '72h', rewards: [{ event: 'Order Completed', value: 1 }] },
        holdout: 0,
        policy: { kind, floor: 0.05 },
        features: [
          { trait: 'orders', type: 'numeric', min: 0, max: 50 },
          { trait: 'aov', type: 'numeric', min: 0, max: 500 },
          { trait: 'age', type: 'numeric', min: 18, max: 80 },
          { trait: 'sessions', type: 'numeric', min: 0, max: 100 },
          { trait: 'segment', type: 'categorical', values: ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j'] },
          { trait: 'city', type: 'hashed', buckets: 8 },
          { trait: 'last_order_at', type: 'recency', unit: 'days', max: 365 },
          { derived: 'local_hour' },
        ],
        dimensions: [
          { id: 'channel', arms: arms('ch'), default: 'ch0' },
          { id: 'subject_line', arms: arms('sl'), default: 'sl0' },
          { id: 'content_block', arms: arms('cb'), default: 'cb0' },
          { id: 'offer', arms: arms('of'), default: 'of0' },
        ],
        guardrails: {
          quiet_hours: { start: '21:00', end: '08:00' },
          consent: { ch0: 'email_ok', ch1: 'sms_ok' },
          eligibility: [{ arm: { subject_line: 'sl3' }, unless: { trait: 'vip', equals: true } }],
          forbid: [{ channel: 'ch1', content_block: 'cb2' }],
        },
      },
    ],
  });
  if (!result.ok) throw new Error(result.errors.join('\n'));
  return result.config.agents[0];
}

function profiles(n: number) {
  const rng = new Rng('bench-profiles');
  const segments = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'z'];
  return Array.from({ length: n }, (_, i) => ({
    userId: `user-${i}`,
    timezone: ['Europe/Paris', 'America/New_York', 'Asia/Tokyo'][i % 3],
    traits: {
      orders: rng.int(60),
      aov: rng.next() * 400,
      age: 18 + rng.int(60),
      sessions: rng.int(120),
      segment: segments[rng.int(segments.length)],
      city: `city-${rng.int(500)}`,
      last_order_at: new Date(Date.UTC(2026, 0, 1) - rng.int(300) * 86_400_000).toISOString(),
      email_ok: true,
      sms_ok: rng.next() < 0.5,
      vip: rng.next() < 0.1,
    },
  }));
}

/** The floor of a LinUCB decision: the bare arithmetic on typed arrays, nothing else. */
function floorDecide(dims: number[]): () => number {
  const mats = dims.map((d) => Float64Array.from({ length: ARMS * d * d }, (_, i) => (i % (d + 1) === 0 ? 1 : 0.001)));
  const means = dims.map((d) => new Float64Array(ARMS * d).fill(0.01));
  const xs = dims.map((d) => Float64Array.from({ length: d }, (_, i) => (i % 3) * 0.5));
  const t = new Float64Array(Math.max(...dims));
  return () => {
    let best = 0;
    for (let j = 0; j < dims.length; j++) {
      const d = dims[j];
      const M = mats[j];
      const x = xs[j];
      const mu = means[j];
      for (let a = 0; a < ARMS; a++) {
        const m0 = a * d * d;
        let q = 0;
        for (let r = 0; r < d; r++) {
          let s = 0;
          const row = m0 + r * d;
          for (let c = 0; c < d; c++) s += M[row + c] * x[c];
          t[r] = s;
          q += x[r] * s;
        }
        let m = 0;
        for (let i = 0; i < d; i++) m += x[i] * mu[a * d + i];
        const score = m + Math.sqrt(q);
        if (score > best) best = score;
      }
    }
    return best;
  };
}

/**
 * The floor of the arithmetic decide really does: contexts are mostly one-hot, so per arm the
 * mean and xᵀA⁻¹x run over the nonzero entries only (O(nnz²), nnz taken from real contexts).
 */
function floorDecideSparse(dims: number[], nnz: number[]): () => number {
  const mats = dims.map((d) => Float64Array.from({ length: ARMS * d * d }, (_, i) => (i % (d + 1) === 0 ? 1 : 0.001)));
  const means = dims.map((d) => new Float64Array(ARMS * d).fill(0.01));
  const nzs = dims.map((d, j) => Int32Array.from({ length: nnz[j] }, (_, p) => Math.floor((p * d) / nnz[j])));
  const xs = dims.map((d) => new Float64Array(d).fill(0.5));
  return () => {
    let best = 0;
    for (let j = 0; j < dims.length; j++) {
      const d = dims[j];
      const M = mats[j];
      const x = xs[j];
      const mu = means[j];
      const nz = nzs[j];
      for (let a = 0; a < ARMS; a++) {
        const m0 = a * d * d;
        let q = 0;
        let m = 0;
        for (let p = 0; p < nz.length; p++) {
          const i = nz[p];
          m += x[i] * mu[a * d + i];
          let s = 0;
          for (let r = 0; r < nz.length; r++) s += M[m0 + i * d + nz[r]] * x[nz[r]];
          q += x[i] * s;
        }
        const score = m + Math.sqrt(q);
        if (score > best) best = score;
      }
    }
    return best;
  };
}

/** The floor of a learn step: per dimension one d×d product and one rank-one update. */
function floorLearn(dims: number[]): () => void {
  const mats = dims.map((d) => Float64Array.from({ length: d * d }, (_, i) => (i % (d + 1) === 0 ? 1 : 0)));
  const xs = dims.map((d) => Float64Array.from({ length: d }, (_, i) => (i % 3) * 0.01));
  const means = dims.map((d) => new Float64Array(d));
  const t = new Float64Array(Math.max(...dims));
  return () => {
    for (let j = 0; j < dims.length; j++) {
      const d = dims[j];
      const M = mats[j];
      const x = xs[j];
      let q = 0;
      for (let r = 0; r < d; r++) {
        let s = 0;
        for (let c = 0; c < d; c++) s += M[r * d + c] * x[c];
        t[r] = s;
        q += x[r] * s;
      }
      const k = 1 / (1 + q);
      for (let r = 0; r < d; r++) {
        const tr = t[r] * k;
        for (let c = 0; c < d; c++) M[r * d + c] -= tr * t[c];
      }
      for (let i = 0; i < d; i++) means[j][i] += t[i] * k * 0.01;
    }
  };
}

export function benchDecide(iterations = 20_000): string[] {
  const lines: string[] = [];
  const users = profiles(4096);
  const now = Date.UTC(2026, 10, 23, 14);
  let floorD: Timing | undefined;
  let floorS: Timing | undefined;
  let floorL: Timing | undefined;
  for (const kind of process.env.BENCH_KINDS?.split(',') ?? ['linucb', 'lin-ts', 'logistic-ts', 'squarecb']) {
    const agent = benchAgent(kind);
    const model = createAgentModel(agent);
    const dims = model.dimensions.map((d) => d.featureNames.length);
    if (!floorD) {
      lines.push(
        `decide: ${DIMS} dimensions × ${ARMS} arms × ${model.encoder.dim} features (context sizes ${dims.join(', ')})`,
      );
      const fd = floorDecide(dims);
      floorD = timeCalls(() => fd(), iterations);
      const fl = floorLearn(dims);
      floorL = timeCalls(() => fl(), iterations);
      // nonzeros of real contexts, for the sparse floor
      const x = new Float64Array(model.encoder.dim);
      model.encoder.encode({ traits: users[0].traits, now, localHour: 14, localWeekday: 1 }, x);
      const base = x.reduce((n, v) => n + (v !== 0 ? 1 : 0), 0);
      const fs = floorDecideSparse(
        dims,
        dims.map((_, j) => base + j),
      );
      floorS = timeCalls(() => fs(), iterations);
      lines.push(row('floor: dense decide arithmetic (K·d² per dim)', floorD));
      lines.push(row(`floor: sparse decide arithmetic (nnz ${base}…${base + DIMS - 1})`, floorS));
      lines.push(row('floor: learn arithmetic (d² per dim)', floorL));
    }
    const root = new Rng('bench');
    // Warm the model with some learning so the matrices are not the identity.
    const decisions: Decision[] = [];
    for (let i = 0; i < 2000; i++) {
      const d = decide(agent, model, users[i % users.length], now + i * 1000, root.fork(i), { decisionId: `w${i}` });
      decisions.push(d);
      learn(agent, model, d, i % 7 === 0 ? 1 : 0);
    }
    const decideT = timeCalls((i) => {
      decide(agent, model, users[i % users.length], now + i * 1000, root.fork(i), { decisionId: `d${i}` });
    }, iterations);
    lines.push(row(`decide (${kind}) vs dense floor`, decideT, kind === 'linucb' ? floorD : undefined));
    if (kind === 'linucb') lines.push(row(`decide (${kind}) vs sparse floor`, decideT, floorS));
    const learnT = timeCalls((i) => {
      learn(agent, model, decisions[i % decisions.length], i % 5 === 0 ? 1 : 0);
    }, iterations);
    lines.push(row(`learn (${kind})`, learnT, floorL));
  }
  return lines;
}
