/// <reference lib="dom" />
import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, path } from '../api.ts';
import { html } from '../html.ts';
import type { AgentSummary } from './agents.ts';
import { Decision, type DecisionView } from './decision-view.ts';

/** A customer of the example agent who consents to email and SMS. */
const EXAMPLE_TRAITS = JSON.stringify(
  { lifetime_orders: 4, last_category: 'running', email_subscribed: true, sms_opt_in: true },
  null,
  2,
);

/** A test decide for a made-up profile (`POST /v1/agents/{id}/decide` with `explain: true`), shown with its explanation. */
export function TryIt() {
  const [agents, setAgents] = useState<AgentSummary[] | undefined>();
  const [result, setResult] = useState<DecisionView | undefined>();
  const [error, setError] = useState<string | undefined>();
  useEffect(() => {
    api<{ agents: AgentSummary[] }>('GET', '/v1/agents').then(
      (r) => setAgents(r.agents),
      (e: unknown) => setError(String((e as Error).message)),
    );
  }, []);
  if (!agents) return html`<p class="loading">Loading…</p>`;
  if (agents.length === 0)
    return html`<h1>Try it</h1>
      <p class="empty">No agent to try yet: create one first (see Agents).</p>`;
  const submit = async (e: Event) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget as HTMLFormElement);
    setError(undefined);
    setResult(undefined);
    let traits: unknown;
    try {
      traits = JSON.parse(String(form.get('traits') || '{}'));
    } catch {
      setError('traits: not valid JSON');
      return;
    }
    const body: Record<string, unknown> = { userId: String(form.get('userId')), traits, explain: true };
    if (form.get('timezone')) body.timezone = String(form.get('timezone'));
    try {
      setResult(await api<DecisionView>('POST', path`/v1/agents/${String(form.get('agent'))}/decide`, body));
    } catch (err) {
      setError(err instanceof ApiError ? err.message : String(err));
    }
  };
  return html`
    <h1>Try it</h1>
    <p class="hint">
      A real decision for a made-up customer: it is logged like any other, so use a user id of your own (the default
      starts with <code>console-test-</code>).
    </p>
    <form class="try" onSubmit=${submit}>
      <label for="agent">Agent</label>
      <select id="agent" name="agent">
        ${agents.map((a) => html`<option value=${a.id}>${a.id}</option>`)}
      </select>
      <label for="userId">User id</label>
      <input id="userId" name="userId" required value="console-test-1" />
      <label for="timezone">Time zone</label>
      <input id="timezone" name="timezone" placeholder="Europe/Paris" />
      <label for="traits">Traits (JSON)</label>
      <textarea id="traits" name="traits" rows=${6} spellcheck=${false}>${EXAMPLE_TRAITS}</textarea>
      <button type="submit">Decide</button>
    </form>
    ${error && html`<p class="error" role="alert">${error}</p>`}
    ${
      result &&
      html`<h2>Decision</h2>
        <${Decision} d=${result} />`
    }
  `;
}
