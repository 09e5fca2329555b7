import type { PolicyParams } from '../../plugin/bandit/index.ts';

/** Every policy with the parameters the shared tests run it with. */
export const POLICY_CASES: PolicyParams[] = [
  { kind: 'random', floor: 0, forgetting: 1 },
  { kind: 'beta-ts', floor: 0.05, forgetting: 1, draws: 300 },
  { kind: 'eps-greedy', floor: 0.05, forgetting: 1, epsilon: 0.1, lambda: 1 },
  { kind: 'linucb', floor: 0.05, forgetting: 1, alpha: 0.5, lambda: 1 },
  { kind: 'lin-ts', floor: 0.05, forgetting: 1, v: 0.3, lambda: 1, draws: 300 },
  { kind: 'logistic-ts', floor: 0.05, forgetting: 1, priorVariance: 1, draws: 300 },
  { kind: 'squarecb', floor: 0.05, forgetting: 1, gamma: 20, lambda: 1 },
  // the linear-cost variants (diagonal covariance) of the linear policies
  { kind: 'linucb', floor: 0.05, forgetting: 1, alpha: 0.5, lambda: 1, covariance: 'diagonal' },
  { kind: 'lin-ts', floor: 0.05, forgetting: 1, v: 0.3, lambda: 1, draws: 300, covariance: 'diagonal' },
  { kind: 'logistic-ts', floor: 0.05, forgetting: 1, priorVariance: 1, draws: 300, covariance: 'diagonal' },
  { kind: 'squarecb', floor: 0.05, forgetting: 1, gamma: 20, lambda: 1, covariance: 'diagonal' },
];

export const LEARNING_CASES = POLICY_CASES.filter((p) => p.kind !== 'random');
export const CONTEXTUAL_CASES = POLICY_CASES.filter((p) => p.kind !== 'random' && p.kind !== 'beta-ts');

/** Feature-encoder rows: traits → expected encoding. */
export const ENCODER_CASES: {
  title: string;
  traits: Record<string, unknown>;
  localHour?: number;
  expected: number[];
}[] = [
  { title: 'scales a numeric trait into [0, 1]', traits: { orders: 25 }, expected: [1, 0.5, 0] },
  { title: 'clips a numeric trait above its max', traits: { orders: 80 }, expected: [1, 1, 0] },
  { title: 'clips a numeric trait below its min', traits: { orders: -3 }, expected: [1, 0, 0] },
  { title: 'parses a numeric string', traits: { orders: '10' }, expected: [1, 0.2, 0] },
  { title: 'flags a missing numeric trait', traits: {}, expected: [1, 0, 1] },
  { title: 'flags a non-numeric string as missing', traits: { orders: 'many' }, expected: [1, 0, 1] },
];
