import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Rng } from '../../plugin/bandit/index.ts';

/**
 * The Open Bandit Dataset sample (ZOZOTOWN, 10,000 rows per policy and campaign; see its
 * README.md): where to find it, its logs, and the Bernoulli-TS policy's action probabilities
 * rebuilt from the production prior as Open Bandit Pipeline does (Monte Carlo over Beta draws,
 * top 3 items by draw as positions 1–3).
 */

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** The sample's folder: $OBD_DIR, or `shared/data/obd` beside the checkout (or beside its worktree folder). */
export function obdDirectory(): string | undefined {
  const candidates = [process.env.OBD_DIR, join(ROOT, '../shared/data/obd'), join(ROOT, '../../shared/data/obd')];
  return candidates.find((dir): dir is string => dir !== undefined && existsSync(join(dir, 'random/men/men.csv')));
}

export interface ObdRow {
  item: number;
  /** 0, 1, 2 for the left, center and right slot. */
  position: number;
  click: number;
  propensity: number;
}

export function readLog(dir: string, policy: 'random' | 'bts', campaign: 'men' | 'women'): ObdRow[] {
  const [header, ...lines] = readFileSync(join(dir, policy, campaign, `${campaign}.csv`), 'utf8')
    .trim()
    .split('\n');
  const columns = header!.split(',');
  const at = (name: string) => columns.indexOf(name);
  const [item, position, click, propensity] = [at('item_id'), at('position'), at('click'), at('propensity_score')];
  return lines.map((line) => {
    const cells = line.split(',');
    return {
      item: Number(cells[item]),
      position: Number(cells[position]) - 1,
      click: Number(cells[click]),
      propensity: Number(cells[propensity]),
    };
  });
}

/** π_bts[item][position], from `draws` Monte Carlo draws of the campaign's Beta prior. */
export function btsProbabilities(dir: string, campaign: 'men' | 'women', draws: number, seed: string): number[][] {
  const prior = readFileSync(join(dir, 'bts', campaign, 'bts_prior.csv'), 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => line.split(',').map(Number) as [number, number, number]);
  const items = prior.length;
  const counts = Array.from({ length: items }, () => [0, 0, 0]);
  const rng = new Rng(seed);
  const theta = new Float64Array(items);
  const order = Array.from({ length: items }, (_, i) => i);
  for (let t = 0; t < draws; t++) {
    for (const [item, alpha, beta] of prior) theta[item] = rng.beta(alpha, beta);
    order.sort((a, b) => theta[b]! - theta[a]!);
    for (let p = 0; p < 3; p++) counts[order[p]!]![p]! += 1;
  }
  return counts.map((c) => c.map((n) => n / draws));
}
