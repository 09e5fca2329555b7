/// <reference lib="dom" />
import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, path } from '../api.ts';
import { count, html, when } from '../html.ts';
import type { AgentSummary } from './agents.ts';

interface Run {
  runId: string;
  agentId: string;
  audience: string;
  status: 'running' | 'completed' | 'failed' | 'interrupted';
  active: boolean;
  progress: { position?: number; members?: number; decided?: number; heldOut?: number; dryRun?: boolean } | null;
  summary: unknown;
  createdAt: string;
  updatedAt: string;
}

/** How often the page asks for the runs again while one is going on. */
const POLL_MS = 1000;

/** Batch runs (`GET /v1/runs`), followed live while one is running; start one, resume an interrupted one. */
export function RunsPage() {
  const [runs, setRuns] = useState<Run[] | undefined>();
  const [agents, setAgents] = useState<AgentSummary[]>([]);
  const [message, setMessage] = useState<string | undefined>();
  const [tick, setTick] = useState(0);
  useEffect(() => {
    api<{ agents: AgentSummary[] }>('GET', '/v1/agents').then(
      (r) => setAgents(r.agents),
      () => undefined,
    );
  }, []);
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    api<{ runs: Run[] }>('GET', '/v1/runs').then(
      (r) => {
        setRuns(r.runs);
        if (r.runs.some((run) => run.active || run.status === 'running'))
          timer = setTimeout(() => setTick((t) => t + 1), POLL_MS);
      },
      (e: unknown) => setMessage(e instanceof ApiError ? e.message : String(e)),
    );
    return () => clearTimeout(timer);
  }, [tick]);

  const start = async (agentId: string, body: Record<string, unknown>) => {
    setMessage(undefined);
    try {
      const run = await api<Run>('POST', path`/v1/agents/${agentId}/runs`, body);
      setMessage(`Run ${run.runId} started.`);
    } catch (e) {
      setMessage(e instanceof ApiError ? e.message : String(e));
    }
    setTick((t) => t + 1);
  };
  const submit = (e: Event) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget as HTMLFormElement);
    void start(String(form.get('agent')), {
      audience: String(form.get('audience')),
      dryRun: form.get('dryRun') === 'on',
    });
  };

  if (!runs) return html`<p class="loading">Loading runs…</p>`;
  return html`
    <h1>Batch runs</h1>
    <form class="try" onSubmit=${submit}>
      <label for="run-agent">Agent</label>
      <select id="run-agent" name="agent">
        ${agents.map((a) => html`<option value=${a.id}>${a.id}</option>`)}
      </select>
      <label for="audience">Audience</label>
      <input id="audience" name="audience" required placeholder="file:members.ndjson" />
      <label for="dryRun">Dry run</label>
      <input id="dryRun" name="dryRun" type="checkbox" checked />
      <button type="submit" disabled=${agents.length === 0}>Start the run</button>
    </form>
    ${message && html`<p class="status" role="status">${message}</p>`}
    ${
      runs.length === 0
        ? html`<p class="empty">
            No run yet. A run decides for every member of an audience (an NDJSON file in the audience folder, a HubSpot
            list, a Segment audience) and delivers to the agent's destinations; a dry run only decides and logs.
          </p>`
        : html`<table class="runs">
            <thead>
              <tr>
                <th scope="col">Run</th>
                <th scope="col">Agent</th>
                <th scope="col">Audience</th>
                <th scope="col">Status</th>
                <th scope="col" class="num">Members</th>
                <th scope="col" class="num">Decided</th>
                <th scope="col">Updated</th>
                <th scope="col"></th>
              </tr>
            </thead>
            <tbody>
              ${runs.map(
                (r) =>
                  html`<tr>
                    <th scope="row"><code>${r.runId}</code></th>
                    <td>${r.agentId}</td>
                    <td><code>${r.audience}</code></td>
                    <td><span class="badge">${r.status}${r.progress?.dryRun ? ' (dry run)' : ''}</span></td>
                    <td class="num">${count(r.progress?.members ?? 0)}</td>
                    <td class="num">${count(r.progress?.decided ?? 0)}</td>
                    <td>${when(r.updatedAt)}</td>
                    <td>
                      ${
                        r.status === 'interrupted' &&
                        html`<button
                          type="button"
                          onClick=${() => start(r.agentId, { audience: r.audience, resume: r.runId })}
                        >
                          Resume
                        </button>`
                      }
                    </td>
                  </tr>`,
              )}
            </tbody>
          </table>`
    }
  `;
}
