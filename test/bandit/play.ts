import { Rng, sampleArm, type Policy } from '../../plugin/bandit/index.ts';

/** Plays `rounds` of a bandit problem; returns which arm was chosen per round and context. */
export function play(
  policy: Policy,
  rounds: number,
  seed: string,
  context: (rng: Rng) => { x: Float64Array; group: number },
  truth: (group: number, arm: number) => number,
) {
  const rng = new Rng(seed);
  const eligible = new Uint8Array(policy.arms).fill(1);
  const probs = new Float64Array(policy.arms);
  const history: { group: number; arm: number }[] = [];
  for (let t = 0; t < rounds; t++) {
    const { x, group } = context(rng);
    policy.distribution(x, eligible, rng, probs);
    const arm = sampleArm(probs, rng);
    const reward = rng.bernoulli(truth(group, arm));
    policy.update(x, arm, reward, probs[arm]);
    history.push({ group, arm });
  }
  return history;
}

export const noContext = () => ({ x: Float64Array.of(1), group: 0 });

export function oneHotContext(rng: Rng) {
  const group = rng.int(3);
  const x = new Float64Array(4);
  x[0] = 1;
  x[1 + group] = 1;
  return { x, group };
}
