import { pushEntry, type SparseContext } from '../bandit/index.ts';
import type { AgentConfig } from '../config/index.ts';
import type { AgentModel, InteractionPart } from './model.ts';

type Choices = Readonly<Record<string, { arm: string }>>;

/**
 * Writes dimension `j`'s context into `x`, sparse (its nonzero entries only): the encoded
 * features it sees (`base`, all of them unless its config lists `features`), then one one-hot
 * block per earlier dimension it sees, with the chosen arm set (all zero when that dimension was
 * not decided), then its declared interactions. This is how a later dimension sees earlier
 * choices. An interaction's slots are the products of its two parts' slots, written for the
 * nonzero pairs only: the cross of a 64-bucket hashed trait and an 11-slot categorical costs one
 * entry, not 704.
 */
export function dimensionContext(
  agent: AgentConfig,
  model: AgentModel,
  j: number,
  base: ArrayLike<number>,
  choices: Choices,
  x: SparseContext,
): void {
  const dim = model.dimensions[j];
  const columns = dim.columns;
  x.nnz = 0;
  let k = 0;
  for (; k < columns.length; k++) pushEntry(x, k, base[columns[k]]);
  for (const i of dim.sees) {
    const chosen = chosenArm(agent, model, i, choices);
    if (chosen >= 0) pushEntry(x, k + chosen, 1);
    k += model.dimensions[i].armIds.length;
  }
  for (const interaction of dim.interactions) {
    const [a, b] = interaction.parts;
    const width = partWidth(b);
    forEachEntry(agent, model, a, base, choices, (ia, va) =>
      forEachEntry(agent, model, b, base, choices, (ib, vb) =>
        pushEntry(x, interaction.offset + ia * width + ib, va * vb),
      ),
    );
  }
}

/** The slots a part of an interaction spans: its feature's, or its dimension's arms. */
export function partWidth(part: InteractionPart): number {
  return 'feature' in part ? part.feature.length : part.arms;
}

/** Calls `visit(slot within the part, value)` for each nonzero slot of an interaction's part. */
function forEachEntry(
  agent: AgentConfig,
  model: AgentModel,
  part: InteractionPart,
  base: ArrayLike<number>,
  choices: Choices,
  visit: (slot: number, value: number) => void,
): void {
  if ('dimension' in part) {
    const chosen = chosenArm(agent, model, part.dimension, choices);
    if (chosen >= 0) visit(chosen, 1);
    return;
  }
  const { start, length } = part.feature;
  for (let s = 0; s < length; s++) if (base[start + s] !== 0) visit(s, base[start + s]);
}

/** The index of the arm dimension `i` chose, or −1 when it was not decided. */
function chosenArm(agent: AgentConfig, model: AgentModel, i: number, choices: Choices): number {
  const chosen = choices[agent.dimensions[i].id];
  return chosen ? model.dimensions[i].armIds.indexOf(chosen.arm) : -1;
}
