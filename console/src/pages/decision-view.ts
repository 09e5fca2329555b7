/// <reference lib="dom" />
import { html } from '../html.ts';

interface ArmView {
  arm: string;
  estimate: number;
  uncertainty: number;
  probability: number;
}

interface DimensionExplanation {
  dimension: string;
  chosen: string;
  runnerUp?: string;
  arms: ArmView[];
  drivers: { feature: string; weight: number }[];
  masked: { arm: string; reason: unknown }[];
}

export interface DecisionView {
  decisionId: string;
  agentId: string;
  agentVersion: number;
  at: string;
  holdout: boolean;
  deliver: boolean;
  reason: string;
  choices: Record<string, { arm: string; probability: number }>;
  probability: number;
  sendAt: string | null;
  suppressed?: { dimension?: string; reasons: unknown[] };
  explanation?: DimensionExplanation[];
}

const pct = (p: number) => `${(p * 100).toFixed(1)} %`;

/** A guardrail's reason as a phrase: `quiet_hours`, or `cap (email, 1 per 7d)` from its fields. */
function reasonText(reason: unknown): string {
  if (typeof reason === 'string') return reason.replace(/_/g, ' ');
  if (reason && typeof reason === 'object') {
    const { kind, ...rest } = reason as { kind?: string };
    const details = Object.values(rest).map(String).join(', ');
    return `${String(kind ?? 'guardrail').replace(/_/g, ' ')}${details ? ` (${details})` : ''}`;
  }
  return String(reason);
}

/** One decision: each dimension's arm and probability, its explanation when logged, guardrail removals, holdout. */
export function Decision({ d }: { d: DecisionView }) {
  const explained = new Map((d.explanation ?? []).map((e) => [e.dimension, e]));
  return html`
    <div class="decision">
      <p>
        <span class=${`badge ${d.holdout ? 'holdout' : ''}`}>${d.holdout ? 'holdout' : d.reason}</span>
        ${' '}${d.deliver ? `deliver${d.sendAt ? ` at ${d.sendAt}` : ''}` : 'nothing delivered'} · joint probability
        ${' '}${pct(d.probability)} · agent v${d.agentVersion} · <code>${d.decisionId}</code>
      </p>
      ${
        d.suppressed &&
        html`<p class="warning">
          Suppressed${d.suppressed.dimension ? ` (${d.suppressed.dimension})` : ''}:
          ${d.suppressed.reasons.map(reasonText).join('; ')}
        </p>`
      }
      ${Object.keys(d.choices).length === 0 && html`<p class="empty">No dimension was decided.</p>`}
      <table class="choices">
        <thead>
          <tr>
            <th scope="col">Dimension</th>
            <th scope="col">Arm</th>
            <th scope="col" class="num">Probability</th>
            <th scope="col">Runner-up</th>
            <th scope="col">Drivers</th>
            <th scope="col">Removed by guardrails</th>
          </tr>
        </thead>
        <tbody>
          ${Object.entries(d.choices).map(([dim, c]) => {
            const e = explained.get(dim);
            return html`<tr>
              <th scope="row">${dim}</th>
              <td><code>${c.arm}</code></td>
              <td class="num">${pct(c.probability)}</td>
              <td>${e?.runnerUp ?? '—'}</td>
              <td>
                ${e ? e.drivers.map((f) => `${f.feature} ${f.weight >= 0 ? '+' : ''}${f.weight.toFixed(3)}`).join(', ') || '—' : 'not explained'}
              </td>
              <td>${e ? e.masked.map((m) => `${m.arm}: ${reasonText(m.reason)}`).join('; ') || 'none' : '—'}</td>
            </tr>`;
          })}
        </tbody>
      </table>
    </div>
  `;
}
