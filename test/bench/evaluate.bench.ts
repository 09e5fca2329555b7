import { performance } from 'node:perf_hooks';
import { timedOfflineEvaluation } from '../measure/off-policy-world.ts';

/**
 * Off-policy evaluation of a candidate over 1,000,000 logged decisions of the simulator's world
 * (two dimensions, 18 joint arms, 8 context features): the time to fit the reward model and to
 * compute DM, IPS, SNIPS and DR with their diagnostics, and the process's peak memory. The log is
 * generated in memory first (its time is printed apart); reading it from a store is not part of it.
 * Target: under 10 s and 500 MB.
 */
export function benchEvaluate(): string[] {
  const rounds = Number(process.env.NEXTBEST_EVALUATE_ROUNDS ?? 1_000_000);
  const before = process.memoryUsage().rss;
  let peak = before;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
  const r = timedOfflineEvaluation('bench-evaluate', rounds, () => performance.now());
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage().rss);
  const dr = r.evaluation.estimates.dr!;
  return [
    `off-policy evaluation over ${rounds.toLocaleString('en')} logged decisions`,
    `  log generated in ${(r.logMs / 1000).toFixed(2)} s (not part of the evaluation)`,
    `  reward model fitted in ${(r.fitMs / 1000).toFixed(2)} s; candidate probabilities and model values of every round, then DM, IPS, SNIPS, DR and diagnostics in ${(r.evaluateMs / 1000).toFixed(2)} s (the estimators alone ${(r.estimateMs / 1000).toFixed(2)} s)`,
    `  evaluation ${((r.fitMs + r.evaluateMs) / 1000).toFixed(2)} s (target < 10 s); peak RSS ${(peak / 2 ** 20).toFixed(0)} MiB (target < 500)`,
    `  DR ${dr.value.toFixed(4)} ± ${(dr.upper - dr.value).toFixed(4)}, ESS ${Math.round(r.evaluation.diagnostics.effectiveSampleSize)}`,
  ];
}
