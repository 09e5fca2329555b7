import type { AgentConfig } from './config.ts';
import type { AgentModel } from './model.ts';

/**
 * Writes dimension `j`'s context into `x`: the agent's encoded features (`base`), then one
 * one-hot block per earlier dimension with the chosen arm set (all zero when that dimension
 * was not decided). This is how a later dimension sees earlier choices.
 */
export function dimensionContext(
  agent: AgentConfig,
  model: AgentModel,
  j: number,
  base: ArrayLike<number>,
  choices: Readonly<Record<string, { arm: string }>>,
  x: Float64Array,
): void {
  const b = model.encoder.dim;
  for (let i = 0; i < b; i++) x[i] = base[i];
  let k = b;
  for (let i = 0; i < j; i++) {
    const arms = model.dimensions[i].armIds;
    for (let a = 0; a < arms.length; a++) x[k + a] = 0;
    const chosen = choices[agent.dimensions[i].id];
    if (chosen) {
      const a = arms.indexOf(chosen.arm);
      if (a >= 0) x[k + a] = 1;
    }
    k += arms.length;
  }
}
