/// <reference lib="dom" />
import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, path } from '../api.ts';
import { count, html } from '../html.ts';
import { LiftOverTime, type ReportBucket } from './lift-over-time.ts';

interface GroupStats {
  n: number;
  sum: number;
  mean: number | null;
  sd: number | null;
}

export interface AgentReport {
  agentId: string;
  agentVersion: number;
  holdoutShare: number;
  /** Per day (asked with `?bucket=day`): each day's figures and the cumulative ones. */
  buckets?: ReportBucket[];
  decisions: { total: number; closed: number; open: number; treatment: number; holdout: number };
  treatment: GroupStats;
  holdout: GroupStats;
  lift: { difference: number; lower: number; upper: number; relative: number | null; significant: boolean } | null;
  srm: {
    expectedHoldoutShare: number;
    observedHoldoutShare: number;
    chiSquare: number;
    pValue: number;
    mismatch: boolean;
    /** The test counts distinct users (the unit the holdout hash assigns). */
    unit?: 'users';
    treatmentUsers?: number;
    holdoutUsers?: number;
  } | null;
  dimensions: Record<
    string,
    { decided: number; arms: Record<string, { n: number; share: number; meanReward: number | null }> }
  >;
}

const fixed = (x: number | null | undefined, digits = 3) => (x === null || x === undefined ? '—' : x.toFixed(digits));
const percent = (x: number) => `${(x * 100).toFixed(1)} %`;

/**
 * The plain-language summary, with the interval always beside the estimate, and "not enough data
 * yet" until both groups have closed decisions to compare. The relative bounds divide the
 * difference's bounds by the holdout mean (its own uncertainty is not in them, and the text says
 * they are approximate).
 */
export function summary(r: AgentReport): string {
  const lift = r.lift;
  const base = r.holdout.mean;
  if (!lift || base === null)
    return `Not enough data yet: ${count(r.decisions.closed)} decisions have a final reward (${count(r.treatment.n)} with nextbest's choices, ${count(r.holdout.n)} in the holdout); a comparison needs at least 2 in each group.`;
  const interval = `95 % interval ${fixed(lift.lower)} to ${fixed(lift.upper)}`;
  const relative =
    lift.relative !== null && base > 0
      ? `, ${percent(lift.relative)} of the holdout's ${fixed(base)} (about ${percent(lift.lower / base)} to ${percent(lift.upper / base)})`
      : '';
  const who = `Over all ${count(r.decisions.closed)} decisions with a final reward, customers who got nextbest's choices`;
  if (!lift.significant)
    return `${who} earned a mean reward ${fixed(lift.difference)} ${lift.difference >= 0 ? 'higher' : 'lower'} than the holdout (${interval}${relative}): the interval includes 0, so no difference can be claimed yet.`;
  return `${who} earned a mean reward ${fixed(Math.abs(lift.difference))} ${lift.difference > 0 ? 'higher' : 'lower'} than the holdout (${interval}${relative}).`;
}

/** The sample-ratio check in one sentence. */
function srmText(srm: NonNullable<AgentReport['srm']>): string {
  const verdict = srm.mismatch ? 'Mismatch: distrust the lift.' : 'The split is as expected.';
  const unit = srm.unit === 'users' ? 'customers' : 'decisions';
  return `${verdict} Holdout ${percent(srm.observedHoldoutShare)} of ${unit}, expected ${percent(srm.expectedHoldoutShare)} (χ² ${srm.chiSquare.toFixed(2)}, p = ${srm.pValue.toPrecision(3)}).`;
}

/** The lift's estimate and 95 % interval on a scale that always shows 0, drawn as SVG. */
function LiftBand({ lift }: { lift: NonNullable<AgentReport['lift']> }) {
  const span = Math.max(Math.abs(lift.lower), Math.abs(lift.upper), 1e-9) * 1.2;
  const x = (v: number) => 300 + (v / span) * 280;
  return html`<svg
    class="lift-band"
    viewBox="0 0 600 70"
    role="img"
    aria-label=${`Lift ${fixed(lift.difference)}, 95 % interval ${fixed(lift.lower)} to ${fixed(lift.upper)}`}
  >
    <line class="axis" x1="20" x2="580" y1="40" y2="40" />
    <line class="zero" x1="300" x2="300" y1="10" y2="60" />
    <rect class="band" x=${x(lift.lower)} width=${Math.max(1, x(lift.upper) - x(lift.lower))} y="28" height="24" />
    <line class="estimate" x1=${x(lift.difference)} x2=${x(lift.difference)} y1="22" y2="58" />
    <text x="300" y="12" text-anchor="middle">0</text>
    <text x=${x(lift.lower)} y="68" text-anchor="middle">${fixed(lift.lower)}</text>
    <text x=${x(lift.upper)} y="68" text-anchor="middle">${fixed(lift.upper)}</text>
  </svg>`;
}

/** An agent's performance: lift vs holdout with its interval, the sample-ratio check, arm shares and rewards. */
export function ReportPage({ agentId }: { agentId: string }) {
  const [report, setReport] = useState<AgentReport | undefined>();
  const [error, setError] = useState<string | undefined>();
  useEffect(() => {
    api<AgentReport>('GET', `${path`/v1/agents/${agentId}/report`}?bucket=day`).then(setReport, (e: unknown) =>
      setError(e instanceof ApiError ? e.message : String(e)),
    );
  }, [agentId]);
  if (error) return html`<p class="error" role="alert">${error}</p>`;
  if (!report) return html`<p class="loading">Loading the report…</p>`;
  const r = report;
  return html`
    <h1>Performance of <code>${agentId}</code> <span class="badge">v${r.agentVersion}</span></h1>
    <p class="summary" id="summary">${summary(r)}</p>
    ${r.lift && html`<${LiftBand} lift=${r.lift} />`}
    <h2>Over time</h2>
    <${LiftOverTime} buckets=${r.buckets ?? []} />
    <table class="groups">
      <thead>
        <tr>
          <th scope="col">Group</th>
          <th scope="col" class="num">Decisions</th>
          <th scope="col" class="num">With a final reward</th>
          <th scope="col" class="num">Mean reward</th>
          <th scope="col" class="num">Standard deviation</th>
        </tr>
      </thead>
      <tbody>
        <tr>
          <th scope="row">nextbest's choices</th>
          <td class="num">${count(r.decisions.treatment)}</td>
          <td class="num">${count(r.treatment.n)}</td>
          <td class="num">${fixed(r.treatment.mean)}</td>
          <td class="num">${fixed(r.treatment.sd)}</td>
        </tr>
        <tr>
          <th scope="row">holdout (default arms)</th>
          <td class="num">${count(r.decisions.holdout)}</td>
          <td class="num">${count(r.holdout.n)}</td>
          <td class="num">${fixed(r.holdout.mean)}</td>
          <td class="num">${fixed(r.holdout.sd)}</td>
        </tr>
      </tbody>
    </table>
    <h2>Sample-ratio check</h2>
    ${
      r.srm
        ? html`<p class=${r.srm.mismatch ? 'error' : ''}>${srmText(r.srm)}</p>`
        : html`<p class="empty">No split to check yet.</p>`
    }
    <h2>Arms (nextbest's choices only)</h2>
    ${
      Object.keys(r.dimensions).length === 0
        ? html`<p class="empty">No decision yet: the arms' shares appear with the first decisions.</p>`
        : Object.entries(r.dimensions).map(
            ([dim, d]) =>
              html`<table class="arms">
                <caption>
                  ${dim} (${count(d.decided)} decided)
                </caption>
                <thead>
                  <tr>
                    <th scope="col">Arm</th>
                    <th scope="col">Share</th>
                    <th scope="col" class="num">Decisions</th>
                    <th scope="col" class="num">Mean reward</th>
                  </tr>
                </thead>
                <tbody>
                  ${Object.entries(d.arms).map(
                    ([arm, a]) =>
                      html`<tr>
                        <th scope="row"><code>${arm}</code></th>
                        <td><meter min="0" max="1" value=${a.share}></meter> ${percent(a.share)}</td>
                        <td class="num">${count(a.n)}</td>
                        <td class="num">${fixed(a.meanReward)}</td>
                      </tr>`,
                  )}
                </tbody>
              </table>`,
          )
    }
  `;
}
