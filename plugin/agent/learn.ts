import { changeDetection, type AgentConfig } from '../config/index.ts';
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
 * With `policy.detect`, the outcome first feeds a change detector. The estimate p is the mean
 * over the decided dimensions of the chosen arm's estimated reward (each clipped to [0, 1]); the
 * standardized shortfall z = (p − reward) / √(p(1 − p)) (p held in [0.01, 0.99] for the scale)
 * enters a one-sided CUSUM, S ← max(0, S + z − slack) (Page 1954), counted once `warmup`
 * outcomes have been learned since the last (re)start. Standardizing makes one threshold work at
 * any conversion rate: at 2 % a stop in conversions is 0.14 a shortfall, at 35 % it is 0.73.
 * When S passes `threshold`, behaviour has changed more than the estimates allow: learning
 * restarts, every dimension keeping only `retain` outcomes' worth of its evidence
 * (`restartAgentModel`), and this outcome is the first the new run learns. Every dimension sees
 * the same reward, so the detector cannot tell which one changed; it discounts them all.
 */
export function learn(agent: AgentConfig, model: AgentModel, decision: Decision, reward: number): number {
  if (decision.holdout || decision.reason === 'guardrail' || decision.reason === 'error') return 0;
  if (decision.features.length !== model.encoder.dim || !Number.isFinite(reward)) return 0;
  const r = reward < 0 ? 0 : reward > 1 ? 1 : reward;
  const detect = changeDetection(agent.policy);
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
      expected += e < 0 ? 0 : e > 1 ? 1 : e;
      estimates++;
    }
  }
  if (detect && estimates > 0) {
    const change = model.change;
    if (change.seen >= detect.warmup) {
      const p = expected / estimates;
      const scale = Math.min(Math.max(p, 0.01), 0.99);
      change.shortfall = Math.max(0, change.shortfall + (p - r) / Math.sqrt(scale * (1 - scale)) - detect.slack);
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
