/// <reference lib="dom" />
/** Tagged templates for preact (no build step for JSX): html`<p>${text}</p>`. */
export { html } from 'htm/preact';

/** `2026-12-02 13:04` in the browser's time zone. */
export function when(iso: string | number): string {
  const d = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** Whole numbers with thousands separators. */
export function count(n: number): string {
  return n.toLocaleString('en-US');
}
