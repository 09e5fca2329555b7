import type { AgentConfig } from '../config/index.ts';
import type { AgentModel } from './model.ts';

/**
 * Writes dimension `j`'s context into `x`: the encoded features it sees (`base`, all of them
 * unless its config lists `features`), then one one-hot block per earlier dimension it sees, with
 * the chosen arm set (all zero when that dimension was not decided). This is how a later
 * dimension sees earlier choices.
 */
export function dimensionContext(
  agent: AgentConfig,
  model: AgentModel,
  j: number,
  base: ArrayLike<number>,
  choices: Readonly<Record<string, { arm: string }>>,
  x: Float64Array,
): void {
  const dim = model.dimensions[j];
  const columns = dim.columns;
  let k = 0;
  for (; k < columns.length; k++) x[k] = base[columns[k]];
  for (const i of dim.sees) {
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
