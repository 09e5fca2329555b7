/// <reference lib="dom" />
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, ApiError, path, type Issue } from '../api.ts';
import { html, when } from '../html.ts';
import { ConfigDiff } from './config-diff.ts';

interface Version {
  version: number;
  createdAt: string;
  actor: string;
  config: unknown;
  yaml: string;
}

interface AuditEntry {
  id: number;
  at: string;
  actor: string;
  action: string;
  detail: unknown;
}

type Check = { ok: true; config: unknown } | { ok: false; issues: Issue[] };

/** How long typing pauses before the config is checked. */
const CHECK_DELAY_MS = 250;

/** One agent: its config editor (checked as you type, diffed to the version in force), versions with rollback, and audit log. */
export function AgentPage({ agentId }: { agentId: string }) {
  const [versions, setVersions] = useState<Version[] | undefined>();
  const [audit, setAudit] = useState<AuditEntry[]>([]);
  const [text, setText] = useState('');
  const [check, setCheck] = useState<Check | undefined>();
  const [status, setStatus] = useState<string | undefined>();
  const [error, setError] = useState<string | undefined>();
  const editor = useRef<HTMLTextAreaElement>(null);

  const load = async () => {
    const [v, a] = await Promise.all([
      api<{ versions: Version[] }>('GET', path`/v1/agents/${agentId}/versions`),
      api<{ entries: AuditEntry[] }>('GET', path`/v1/agents/${agentId}/audit`),
    ]);
    setVersions(v.versions);
    setAudit(a.entries);
    return v.versions;
  };
  useEffect(() => {
    load().then(
      (v) => setText(v[0]?.yaml ?? ''),
      (e: unknown) => setError(e instanceof ApiError ? e.message : String(e)),
    );
  }, [agentId]);
  useEffect(() => {
    if (!versions) return;
    const timer = setTimeout(() => {
      api<Check>('POST', path`/v1/agents/${agentId}/check`, { yaml: text }).then(setCheck, (e: unknown) =>
        setError(e instanceof ApiError ? e.message : String(e)),
      );
    }, CHECK_DELAY_MS);
    return () => clearTimeout(timer);
  }, [text, versions]);

  if (error) return html`<p class="error" role="alert">${error}</p>`;
  if (!versions) return html`<p class="loading">Loading ${agentId}…</p>`;
  const inForce = versions[0];
  const changed = text !== inForce?.yaml;

  const putConfig = async (config: unknown, done: string) => {
    const r = await api<{ version: number; changed: boolean }>('PUT', path`/v1/agents/${agentId}`, config);
    const fresh = await load();
    setText(fresh[0]?.yaml ?? '');
    setStatus(r.changed ? `${done}: version ${r.version} is in force.` : 'No change: the version in force stays.');
  };
  const save = async () => {
    setStatus(undefined);
    const now = await api<Check>('POST', path`/v1/agents/${agentId}/check`, { yaml: text });
    setCheck(now);
    if (now.ok) await putConfig(now.config, 'Saved').catch((e: unknown) => setStatus(String((e as Error).message)));
  };
  const rollBack = (v: Version) =>
    putConfig(v.config, `Rolled back to version ${v.version}`).catch((e: unknown) =>
      setStatus(String((e as Error).message)),
    );
  const goToLine = (line: number | undefined) => {
    const area = editor.current;
    if (!area || line === undefined) return;
    const offset =
      text
        .split('\n')
        .slice(0, line - 1)
        .join('\n').length + (line > 1 ? 1 : 0);
    area.focus();
    area.setSelectionRange(offset, offset);
  };

  return html`
    <h1>Agent <code>${agentId}</code> <span class="badge">v${inForce?.version}</span></h1>
    <p><a href=${`#/agents/${encodeURIComponent(agentId)}/report`}>Performance report</a></p>
    <section aria-labelledby="edit-title" class="editor">
      <h2 id="edit-title">Config</h2>
      <textarea
        ref=${editor}
        id="config"
        aria-label="Agent config (YAML)"
        aria-describedby="issues"
        spellcheck=${false}
        rows=${24}
        value=${text}
        onInput=${(e: Event) => setText((e.currentTarget as HTMLTextAreaElement).value)}
      ></textarea>
      <div id="issues" aria-live="polite">
        ${
          check?.ok === false
            ? html`<ul class="issues">
                ${check.issues.map(
                  (i) =>
                    html`<li>
                      <button type="button" class="link" onClick=${() => goToLine(i.line)}>
                        ${i.line !== undefined ? `line ${i.line}` : 'config'}
                      </button>
                      <code class="path">${i.path || '(top)'}</code> ${i.message}
                    </li>`,
                )}
              </ul>`
            : check?.ok
              ? html`<p class="valid">Valid${changed ? '' : ', and the same as the version in force'}.</p>`
              : html`<p class="hint">Checking…</p>`
        }
      </div>
      <div class="actions">
        <button type="button" onClick=${save} disabled=${!changed || check?.ok !== true}>Save as a new version</button>
        <button type="button" onClick=${() => setText(inForce?.yaml ?? '')} disabled=${!changed}>
          Discard changes
        </button>
      </div>
      ${status && html`<p class="status" role="status">${status}</p>`}
      <h3>Changes to the version in force</h3>
      <${ConfigDiff} before=${inForce?.yaml ?? ''} after=${text} />
    </section>
    <section aria-labelledby="versions-title">
      <h2 id="versions-title">Versions</h2>
      <table class="versions">
        <thead>
          <tr>
            <th scope="col">Version</th>
            <th scope="col">Saved</th>
            <th scope="col">By</th>
            <th scope="col"></th>
          </tr>
        </thead>
        <tbody>
          ${versions.map(
            (v) =>
              html`<tr>
                <th scope="row">v${v.version}</th>
                <td>${when(v.createdAt)}</td>
                <td>${v.actor}</td>
                <td>
                  ${
                    v === inForce
                      ? html`<span class="badge">in force</span>`
                      : html`<button type="button" onClick=${() => rollBack(v)}>Roll back to v${v.version}</button>`
                  }
                </td>
              </tr>`,
          )}
        </tbody>
      </table>
    </section>
    <section aria-labelledby="audit-title">
      <h2 id="audit-title">Audit log</h2>
      ${
        audit.length === 0
          ? html`<p class="empty">No change recorded yet.</p>`
          : html`<table class="audit">
              <thead>
                <tr>
                  <th scope="col">When</th>
                  <th scope="col">Who</th>
                  <th scope="col">What</th>
                  <th scope="col">Detail</th>
                </tr>
              </thead>
              <tbody>
                ${audit.map(
                  (e) =>
                    html`<tr>
                      <td>${when(e.at)}</td>
                      <td>${e.actor}</td>
                      <td>${e.action}</td>
                      <td><code>${JSON.stringify(e.detail)}</code></td>
                    </tr>`,
                )}
              </tbody>
            </table>`
      }
    </section>
  `;
}
