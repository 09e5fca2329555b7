/// <reference lib="dom" />
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, useSession, type Session } from './api.ts';
import { html } from './html.ts';
import { AgentPage } from './pages/agent.ts';
import { AgentsPage } from './pages/agents.ts';
import { ReportPage } from './pages/report.ts';
import { RunsPage } from './pages/runs.ts';
import { SignIn } from './pages/sign-in.ts';
import { TryIt } from './pages/try-it.ts';

/** The pages, by the first part of the address's hash (`#/agents/winback`). */
const NAV = [
  { hash: '#/agents', label: 'Agents' },
  { hash: '#/runs', label: 'Runs' },
  { hash: '#/try', label: 'Try it' },
] as const;

function useHash(): string {
  const [hash, setHash] = useState(location.hash || '#/agents');
  useEffect(() => {
    const onChange = () => setHash(location.hash || '#/agents');
    addEventListener('hashchange', onChange);
    return () => removeEventListener('hashchange', onChange);
  }, []);
  return hash;
}

function Page({ hash }: { hash: string }) {
  const [, section, id, sub] = hash.split('/').map(decodeURIComponent);
  if (section === 'agents' && id && sub === 'report')
    return html`<${ReportPage} agentId=${id} key=${`${id}/report`} />`;
  if (section === 'agents' && id) return html`<${AgentPage} agentId=${id} key=${id} />`;
  if (section === 'try') return html`<${TryIt} />`;
  if (section === 'runs') return html`<${RunsPage} />`;
  return html`<${AgentsPage} />`;
}

function App() {
  const [session, setSession] = useState<Session | undefined>();
  const [checked, setChecked] = useState(false);
  const hash = useHash();
  const signedIn = (s: Session | undefined) => {
    useSession(s, () => signedIn(undefined));
    setSession(s);
  };
  useEffect(() => {
    api<Session>('GET', '/console/session')
      .then(signedIn, () => signedIn(undefined))
      .finally(() => setChecked(true));
  }, []);
  useEffect(() => {
    document.getElementById('main')?.focus();
  }, [hash]);
  if (!checked) return html`<p class="loading">Loading…</p>`;
  if (!session) return html`<${SignIn} onSignedIn=${signedIn} />`;
  const signOut = async () => {
    await api('DELETE', '/console/session').catch(() => undefined);
    signedIn(undefined);
  };
  return html`
    <a class="skip" href="#main">Skip to content</a>
    <header class="top">
      <strong class="brand">nextbest</strong>
      <nav aria-label="Pages">
        ${NAV.map(
          (n) => html`<a href=${n.hash} aria-current=${hash.startsWith(n.hash) ? 'page' : undefined}>${n.label}</a>`,
        )}
      </nav>
      <span class="who">${session.workspace} · ${session.keyLabel}</span>
      <button type="button" onClick=${signOut}>Sign out</button>
    </header>
    <main id="main" tabindex="-1"><${Page} hash=${hash} /></main>
  `;
}

render(html`<${App} />`, document.getElementById('app')!);
