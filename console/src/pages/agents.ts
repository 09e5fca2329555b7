/// <reference lib="dom" />
import { useEffect, useState } from 'preact/hooks';
import { api, ApiError } from '../api.ts';
import { count, html } from '../html.ts';

export interface AgentSummary {
  id: string;
  version: number;
  policy: string;
  dimensions: string[];
  holdout: number;
  decisionsToday: number;
  decisionsTotal: number;
  learnerLagSeconds: number;
}

/** `0 s`, `12 min`, `3.5 h`. */
function lag(seconds: number): string {
  if (seconds < 60) return `${Math.round(seconds)} s`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

/** Every agent of the workspace with its state (`GET /v1/agents`). */
export function AgentsPage() {
  const [agents, setAgents] = useState<AgentSummary[] | undefined>();
  const [error, setError] = useState<string | undefined>();
  useEffect(() => {
    api<{ agents: AgentSummary[] }>('GET', '/v1/agents').then(
      (r) => setAgents(r.agents),
      (e: unknown) => setError(e instanceof ApiError ? e.message : String(e)),
    );
  }, []);
  if (error) return html`<p class="error" role="alert">${error}</p>`;
  if (!agents) return html`<p class="loading">Loading agents…</p>`;
  return html`
    <h1>Agents</h1>
    ${
      agents.length === 0
        ? html`<div class="empty">
            <p>No agent yet.</p>
            <p>
              Start the service with a config file (<code>nextbest serve --config agents.yaml</code>), or create one
              with <code>PUT /v1/agents/{id}</code>; it appears here with its versions and its editor.
            </p>
          </div>`
        : html`<table class="agents">
            <thead>
              <tr>
                <th scope="col">Agent</th>
                <th scope="col">Version</th>
                <th scope="col">Policy</th>
                <th scope="col">Decides</th>
                <th scope="col">Holdout</th>
                <th scope="col" class="num">Decisions today</th>
                <th scope="col" class="num">Decisions in all</th>
                <th scope="col" class="num">Learner lag</th>
                <th scope="col"><span class="visually-hidden">Performance</span></th>
              </tr>
            </thead>
            <tbody>
              ${agents.map(
                (a) =>
                  html`<tr>
                    <th scope="row"><a href=${`#/agents/${encodeURIComponent(a.id)}`}>${a.id}</a></th>
                    <td>v${a.version}</td>
                    <td>${a.policy}</td>
                    <td>${a.dimensions.join(', ')}</td>
                    <td>${Math.round(a.holdout * 100)} %</td>
                    <td class="num">${count(a.decisionsToday)}</td>
                    <td class="num">${count(a.decisionsTotal)}</td>
                    <td class="num">${lag(a.learnerLagSeconds)}</td>
                    <td>
                      <a href=${`#/agents/${encodeURIComponent(a.id)}/report`}
                        >Report<span class="visually-hidden"> of ${a.id}</span></a
                      >
                    </td>
                  </tr>`,
              )}
            </tbody>
          </table>`
    }
  `;
}
