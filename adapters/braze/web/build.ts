/**
 * Bundles the onsite module for the browser with esbuild: an IIFE that defines `window.nextbest`
 * (for a plain `<script>` tag) and an ES module (for a site's own bundler). The bundles are build
 * output, not source: they are never committed.
 *
 *   node --import tsx adapters/braze/web/build.ts [--outdir dist/braze-web] [--no-minify]
 */
import { stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ENTRY = fileURLToPath(new URL('./index.ts', import.meta.url));

/** The global the IIFE bundle defines: `nextbest.renderOnsiteContent(…)`. */
export const GLOBAL_NAME = 'nextbest';
export const IIFE_FILE = 'nextbest-braze.js';
export const ESM_FILE = 'nextbest-braze.mjs';

export interface BuiltBundle {
  format: 'iife' | 'esm';
  path: string;
  bytes: number;
}

/** Builds both bundles into `outdir`, for ES2020 browsers. */
export async function buildBrazeWebBundles(outdir: string, options: { minify?: boolean } = {}): Promise<BuiltBundle[]> {
  const out: BuiltBundle[] = [];
  for (const [format, file] of [
    ['iife', IIFE_FILE],
    ['esm', ESM_FILE],
  ] as const) {
    const path = join(outdir, file);
    await build({
      entryPoints: [ENTRY],
      outfile: path,
      bundle: true,
      format,
      ...(format === 'iife' ? { globalName: GLOBAL_NAME } : {}),
      platform: 'browser',
      target: 'es2020',
      minify: options.minify ?? true,
      sourcemap: true,
      legalComments: 'linked',
      logLevel: 'silent',
    });
    out.push({ format, path, bytes: (await stat(path)).size });
  }
  return out;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const at = args.indexOf('--outdir');
  const outdir = resolve(at >= 0 && args[at + 1] ? args[at + 1] : 'dist/braze-web');
  const bundles = await buildBrazeWebBundles(outdir, { minify: !args.includes('--no-minify') });
  for (const b of bundles) console.log(`${b.format.padEnd(4)} ${b.path} ${(b.bytes / 1024).toFixed(1)} KiB`);
}
