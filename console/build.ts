/**
 * Bundles the admin console for the browser with esbuild: `app.js` (preact, htm, diff and the
 * pages), `app.css` and `index.html`, into `dist/plugin/console/assets/`, beside the output of
 * plugin/console, which serves them (so they ship in the package with `dist/plugin`). `npm run
 * build` runs it after tsc; the page loads only these files, from its own origin.
 *
 *   node --import tsx console/build.ts [--outdir DIR] [--no-minify]
 */
import { copyFile, mkdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const SOURCE = fileURLToPath(new URL('./src/', import.meta.url));
export const CONSOLE_OUTDIR = fileURLToPath(new URL('../dist/plugin/console/assets/', import.meta.url));
/** The files the browser downloads to show the console: their compressed size is the page weight. */
export const CONSOLE_FILES = ['index.html', 'app.js', 'app.css'] as const;

/** Builds the console into `outdir`; answers each file with its size in bytes. */
export async function buildConsole(
  outdir: string = CONSOLE_OUTDIR,
  options: { minify?: boolean } = {},
): Promise<{ file: string; bytes: number }[]> {
  await mkdir(outdir, { recursive: true });
  await build({
    // one script and one stylesheet
    entryPoints: [
      { in: join(SOURCE, 'main.ts'), out: 'app' },
      { in: join(SOURCE, 'console.css'), out: 'app' },
    ],
    outdir,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2020',
    minify: options.minify ?? true,
    legalComments: 'linked',
    logLevel: 'silent',
  });
  await copyFile(join(SOURCE, 'index.html'), join(outdir, 'index.html'));
  return Promise.all(CONSOLE_FILES.map(async (file) => ({ file, bytes: (await stat(join(outdir, file))).size })));
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const at = args.indexOf('--outdir');
  const outdir = at >= 0 && args[at + 1] ? resolve(args[at + 1]) : CONSOLE_OUTDIR;
  for (const f of await buildConsole(outdir, { minify: !args.includes('--no-minify') }))
    console.log(`console ${join(outdir, f.file)} ${(f.bytes / 1024).toFixed(1)} KiB`);
}
