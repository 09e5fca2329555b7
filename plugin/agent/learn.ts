import type { AgentConfig } from './config.ts';
import { dimensionContext } from './context.ts';
import type { AgentModel } from './model.ts';
import type { Decision } from './types.ts';

/**
 * Folds one outcome into the model: every dimension that was decided learns that its chosen
 * arm, in the context it was chosen in, earned `reward` ∈ [0, 1]. Holdout decisions and
 * suppressed ones teach nothing (their arms were not chosen by the policy). Returns the number
 * of dimensions updated; a decision made under a feature layout the model no longer has
 * (features were changed since) updates nothing.
 */
export function learn(agent: AgentConfig, model: AgentModel, decision: Decision, reward: number): number {
  if (decision.holdout || decision.reason === 'guardrail' || decision.reason === 'error') return 0;
  if (decision.features.length !== model.encoder.dim) return 0;
  const r = reward < 0 ? 0 : reward > 1 ? 1 : reward;
  let updated = 0;
  for (let j = 0; j < model.dimensions.length; j++) {
    const dim = model.dimensions[j];
    const choice = decision.choices[dim.id];
    if (!choice) continue;
    const arm = dim.armIds.indexOf(choice.arm);
    if (arm < 0) continue;
    const x = model.scratch.x[j];
    dimensionContext(agent, model, j, decision.features, decision.choices, x);
    dim.policy.update(x, arm, r, choice.probability);
    updated++;
  }
  return updated;
}
