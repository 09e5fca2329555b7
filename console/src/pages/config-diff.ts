/// <reference lib="dom" />
import { diffLines } from 'diff';
import { html } from '../html.ts';

/** The line diff of two config texts: removed lines marked `-`, added ones `+`. */
export function ConfigDiff({ before, after }: { before: string; after: string }) {
  if (before === after) return html`<p class="empty">No change.</p>`;
  const parts = diffLines(before, after);
  return html`<pre class="diff" aria-label="Diff to the version in force">
${parts.flatMap((part) => {
      const mark = part.added ? '+' : part.removed ? '-' : ' ';
      const cls = part.added ? 'added' : part.removed ? 'removed' : 'same';
      return part.value
        .replace(/\n$/, '')
        .split('\n')
        .map((line) => html`<span class=${cls}>${mark} ${line}</span>`);
    })}</pre>`;
}
