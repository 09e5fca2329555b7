import type { SimulationReport } from './run.ts';

const pct = (v: number) => `${(100 * v).toFixed(1)} %`;

/** The per-policy table printed by `nextbest simulate`. */
export function reportTable(report: SimulationReport): string {
  const rows = [
    [
      'policy',
      'reward',
      '% oracle',
      '% oracle run',
      'regret',
      'last 20 %: reward',
      '% oracle',
      '% oracle run',
      ...(report.changeAt !== undefined ? ['after change', 'back ≥ 80 % after'] : []),
    ],
    [
      'oracle',
      report.oracle.reward.toFixed(4),
      '100.0 %',
      '100.0 %',
      '0',
      report.oracle.last.reward.toFixed(4),
      '100.0 %',
      '100.0 %',
      ...(report.changeAt !== undefined ? ['100.0 %', '0'] : []),
    ],
    ...report.policies.map((p) => [
      p.name,
      p.reward.toFixed(4),
      pct(p.oracleShare),
      pct(p.oracleRunShare),
      p.regret.toFixed(1),
      p.last.reward.toFixed(4),
      pct(p.last.oracleShare),
      pct(p.last.oracleRunShare),
      ...(p.afterChange
        ? [
            pct(p.afterChange.oracleShare),
            p.afterChange.recoveredAfter === null ? 'never' : String(p.afterChange.recoveredAfter),
          ]
        : []),
    ]),
  ];
  const widths = rows[0].map((_, k) => Math.max(...rows.map((r) => r[k].length)));
  const line = (r: string[]) =>
    r.map((cell, k) => (k === 0 ? cell.padEnd(widths[k]) : cell.padStart(widths[k]))).join('  ');
  const head = `scenario ${report.scenario} (${report.description}), ${report.decisions} decisions, seed ${report.seed}`;
  const notes = report.policies
    .filter((p) => p.combination)
    .map(
      (p) =>
        `${p.name} fixed: ${Object.entries(p.combination!)
          .map(([k, v]) => `${k}=${v}`)
          .join(', ')}`,
    );
  const legend = [
    'reward: mean true conversion probability of the choices; % oracle: of the best choice for the same customer at the same moment;',
    '% oracle run: of what the oracle earns when it drives its own run; regret: Σ (best − chosen) over decisions.',
  ];
  return [head, '', line(rows[0]), ...rows.slice(1).map(line), '', ...legend, ...notes].join('\n');
}

const COLORS = [
  '#1b9e77',
  '#d95f02',
  '#7570b3',
  '#e7298a',
  '#66a61e',
  '#e6ab02',
  '#a6761d',
  '#666666',
  '#1f78b4',
  '#b2df8a',
];

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

/** A self-contained HTML page: the table and learning curves as inline SVG. */
export function reportHtml(report: SimulationReport): string {
  const width = 760;
  const height = 380;
  const pad = { left: 56, right: 170, top: 20, bottom: 40 };
  const series = [
    { name: 'oracle', curve: report.oracle.curve, dash: '6 4' },
    ...report.policies.map((p) => ({ name: p.name, curve: p.curve, dash: '' })),
  ];
  const maxY = Math.max(...series.flatMap((s) => s.curve)) * 1.05;
  const points = report.oracle.curve.length;
  const x = (k: number) => pad.left + ((width - pad.left - pad.right) * k) / Math.max(1, points - 1);
  const y = (v: number) => height - pad.bottom - ((height - pad.top - pad.bottom) * v) / maxY;
  const lines = series
    .map((s, k) => {
      const color = k === 0 ? '#000' : COLORS[(k - 1) % COLORS.length];
      const d = s.curve.map((v, i) => `${i === 0 ? 'M' : 'L'}${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
      const ly = pad.top + 16 * k;
      return `<path d="${d}" fill="none" stroke="${color}" stroke-width="1.8" ${s.dash ? `stroke-dasharray="${s.dash}"` : ''}/>
<line x1="${width - pad.right + 12}" x2="${width - pad.right + 32}" y1="${ly}" y2="${ly}" stroke="${color}" stroke-width="2" ${s.dash ? `stroke-dasharray="${s.dash}"` : ''}/>
<text x="${width - pad.right + 38}" y="${ly + 4}">${escapeHtml(s.name)}</text>`;
    })
    .join('\n');
  const ticks = [0, 0.25, 0.5, 0.75, 1]
    .map((f) => {
      const v = maxY * f;
      return `<line x1="${pad.left}" x2="${width - pad.right}" y1="${y(v)}" y2="${y(v)}" stroke="#eee"/><text x="${pad.left - 6}" y="${y(v) + 4}" text-anchor="end">${v.toFixed(3)}</text>`;
    })
    .join('\n');
  const change =
    report.changeAt !== undefined
      ? `<line x1="${x(report.changeAt / report.bucket)}" x2="${x(report.changeAt / report.bucket)}" y1="${pad.top}" y2="${height - pad.bottom}" stroke="#c00" stroke-dasharray="3 3"/>`
      : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>nextbest simulation: ${escapeHtml(report.scenario)}</title>
<style>body{font:14px system-ui,sans-serif;margin:2rem;color:#222}pre{background:#f6f6f6;padding:1rem;overflow:auto}svg text{font:11px system-ui,sans-serif}</style></head>
<body>
<h1>nextbest simulation: ${escapeHtml(report.scenario)}</h1>
<p>${escapeHtml(report.description)}. ${report.decisions} decisions, seed ${escapeHtml(report.seed)}. Reward is the true conversion probability of each choice; the curve shows its mean per ${report.bucket} decisions.</p>
<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" role="img" aria-label="learning curves">
${ticks}
${change}
<line x1="${pad.left}" x2="${width - pad.right}" y1="${height - pad.bottom}" y2="${height - pad.bottom}" stroke="#999"/>
<text x="${(pad.left + width - pad.right) / 2}" y="${height - 8}" text-anchor="middle">decisions (× ${report.bucket})</text>
${lines}
</svg>
<pre>${escapeHtml(reportTable(report))}</pre>
</body></html>
`;
}
