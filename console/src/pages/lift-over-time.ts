/// <reference lib="dom" />
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import { count, html } from '../html.ts';

/** One bucket of `GET /v1/agents/{id}/report?bucket=day|week`: its own figures and the cumulative ones. */
export interface ReportBucket {
  from: string;
  to: string;
  bucket: BucketFigures;
  cumulative: BucketFigures;
}

interface BucketFigures {
  decisions: { closed: number };
  lift: { difference: number; lower: number; upper: number } | null;
}

const fixed = (x: number | null | undefined) => (x === null || x === undefined ? '—' : x.toFixed(3));
const DAY_S = 86_400;

/** The chart's columns: time (seconds), each bucket's lift, its interval's bounds, the cumulative lift. */
function columns(buckets: readonly ReportBucket[]): uPlot.AlignedData {
  const at = buckets.map((b) => Date.parse(`${b.from}T00:00:00Z`) / 1000);
  const lift = (f: BucketFigures, k: 'difference' | 'lower' | 'upper') => (f.lift ? f.lift[k] : null);
  return [
    at,
    buckets.map((b) => lift(b.bucket, 'upper')),
    buckets.map((b) => lift(b.bucket, 'lower')),
    buckets.map((b) => lift(b.bucket, 'difference')),
    buckets.map((b) => lift(b.cumulative, 'difference')),
  ];
}

function chartOptions(width: number): uPlot.Options {
  return {
    width,
    height: 240,
    scales: { x: { time: true, range: (_u, min, max) => [min - DAY_S / 2, max + DAY_S / 2] } },
    series: [
      {},
      { label: '95 % upper', stroke: '#9bb8e3' },
      { label: '95 % lower', stroke: '#9bb8e3' },
      { label: 'lift in the bucket', stroke: '#1f5fbf', width: 2, points: { show: true, size: 6 } },
      { label: 'cumulative lift', stroke: '#2b8a3e', width: 2, dash: [6, 4] },
    ],
    bands: [{ series: [1, 2], fill: 'rgba(31, 95, 191, 0.15)' }],
  };
}

/**
 * The lift vs holdout per bucket with its 95 % interval as a band, and the cumulative lift, drawn
 * with uPlot; the same figures in a table below (for the keyboard and screen readers).
 */
export function LiftOverTime({ buckets }: { buckets: readonly ReportBucket[] }) {
  const chart = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!chart.current || buckets.length === 0) return;
    const plot = new uPlot(
      chartOptions(Math.min(720, chart.current.clientWidth || 720)),
      columns(buckets),
      chart.current,
    );
    return () => plot.destroy();
  }, [buckets]);
  if (buckets.length === 0) return html`<p class="empty">No decision in this window yet.</p>`;
  return html`
    <div
      class="lift-over-time"
      ref=${chart}
      role="img"
      aria-label="Lift per day with its 95 % interval, and the cumulative lift"
    ></div>
    <table class="buckets">
      <caption>
        Lift per day
      </caption>
      <thead>
        <tr>
          <th scope="col">Day</th>
          <th scope="col" class="num">With a final reward</th>
          <th scope="col" class="num">Lift</th>
          <th scope="col">95 % interval</th>
          <th scope="col" class="num">Cumulative lift</th>
        </tr>
      </thead>
      <tbody>
        ${buckets.map(
          (b) =>
            html`<tr>
              <th scope="row">${b.from === b.to ? b.from : `${b.from} – ${b.to}`}</th>
              <td class="num">${count(b.bucket.decisions.closed)}</td>
              <td class="num">${fixed(b.bucket.lift?.difference)}</td>
              <td>${b.bucket.lift ? `${fixed(b.bucket.lift.lower)} to ${fixed(b.bucket.lift.upper)}` : '—'}</td>
              <td class="num">${fixed(b.cumulative.lift?.difference)}</td>
            </tr>`,
        )}
      </tbody>
    </table>
  `;
}
