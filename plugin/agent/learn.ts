import type { AgentConfig } from './config.ts';
import { dimensionContext } from './context.ts';
import { restartAgentModel, type AgentModel } from './model.ts';
import type { Decision } from './types.ts';

/**
 * Folds one outcome into the model: every dimension that was decided learns that its chosen
 * arm, in the context it was chosen in, earned `reward` ∈ [0, 1]. Holdout decisions and
 * suppressed ones teach nothing (their arms were not chosen by the policy). Returns the number
 * of dimensions updated; a decision made under a feature layout the model no longer has
 * (features were changed since) updates nothing.
 *
 * With `policy.detect`, the outcome first feeds a change detector: the shortfall
 * e = (mean over the decided dimensions of the chosen arm's estimated reward) − reward enters a
 * one-sided CUSUM, S ← max(0, S + e − slack) (Page 1954), counted once `warmup` outcomes have
 * been learned since the last (re)start. When S passes `threshold`, behaviour has changed more
 * than the estimates allow: every dimension restarts from the prior (`restartAgentModel`), and
 * this outcome is the first the new run learns. Every dimension sees the same reward, so the
 * detector cannot tell which one changed; it restarts them all.
 */
export function learn(agent: AgentConfig, model: AgentModel, decision: Decision, reward: number): number {
  if (decision.holdout || decision.reason === 'guardrail' || decision.reason === 'error') return 0;
  if (decision.features.length !== model.encoder.dim) return 0;
  const r = reward < 0 ? 0 : reward > 1 ? 1 : reward;
  const detect = agent.policy.detect;
  let expected = 0;
  let estimates = 0;
  for (let j = 0; j < model.dimensions.length; j++) {
    const dim = model.dimensions[j];
    const choice = decision.choices[dim.id];
    const arm = choice ? dim.armIds.indexOf(choice.arm) : -1;
    if (arm < 0) continue;
    dimensionContext(agent, model, j, decision.features, decision.choices, model.scratch.x[j]);
    if (!detect) continue;
    const e = dim.policy.expected(model.scratch.x[j], arm);
    if (Number.isFinite(e)) {
      expected += e;
      estimates++;
    }
  }
  if (detect && estimates > 0) {
    const change = model.change;
    if (change.seen >= detect.warmup) {
      change.shortfall = Math.max(0, change.shortfall + expected / estimates - r - detect.slack);
      if (change.shortfall > detect.threshold) restartAgentModel(agent, model);
    }
    model.change.seen++;
  }
  let updated = 0;
  for (let j = 0; j < model.dimensions.length; j++) {
    const dim = model.dimensions[j];
    const choice = decision.choices[dim.id];
    if (!choice) continue;
    const arm = dim.armIds.indexOf(choice.arm);
    if (arm < 0) continue;
    dim.policy.update(model.scratch.x[j], arm, r, choice.probability);
    updated++;
  }
  return updated;
}
