/// <reference lib="dom" />
import { useState } from 'preact/hooks';
import { api, ApiError, type Session } from '../api.ts';
import { html } from '../html.ts';

/**
 * Sign in with an admin key: the key goes to the server once, which answers with an HttpOnly
 * session cookie; the key is not kept anywhere in the browser (the field is cleared).
 */
export function SignIn({ onSignedIn }: { onSignedIn: (s: Session) => void }) {
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    const form = e.currentTarget as HTMLFormElement;
    const field = form.elements.namedItem('key') as HTMLInputElement;
    const key = field.value;
    field.value = '';
    setBusy(true);
    try {
      onSignedIn(await api<Session>('POST', '/console/session', { key }));
    } catch (err) {
      setError(err instanceof ApiError ? err.message : 'the server did not answer');
      field.focus();
    } finally {
      setBusy(false);
    }
  };
  return html`
    <main class="sign-in" id="main">
      <h1>nextbest console</h1>
      <form onSubmit=${submit}>
        <label for="key">Admin API key</label>
        <input id="key" name="key" type="password" autocomplete="off" required autofocus />
        <button type="submit" disabled=${busy}>Sign in</button>
        ${error && html`<p class="error" role="alert">${error}</p>`}
      </form>
      <p class="hint">
        The key printed by <code>nextbest serve</code> at its first start, or one made with <code>POST /v1/keys</code>.
        Only admin keys sign in; the key is exchanged for a session and is not kept in this browser.
      </p>
    </main>
  `;
}
