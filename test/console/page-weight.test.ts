/**
 * The console's page weight: what a browser downloads to show it (the page, its one script and
 * its one stylesheet, as built by `npm run build`), compressed as a server or CDN in front of
 * nextbest would send it. The budget is 300 KB in total.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { CONSOLE_FILES, CONSOLE_OUTDIR } from '../../console/build.ts';

const BUDGET_BYTES = 300 * 1000;

describe('the console page weight', () => {
  it('is under 300 KB gzip-compressed for its page, script and stylesheet together', async () => {
    let gzip = 0;
    let brotli = 0;
    let raw = 0;
    for (const file of CONSOLE_FILES) {
      const bytes = await readFile(join(CONSOLE_OUTDIR, file));
      raw += bytes.length;
      gzip += gzipSync(bytes, { level: 9 }).length;
      brotli += brotliCompressSync(bytes).length;
    }
    console.log(`console page weight: ${raw} B raw, ${gzip} B gzip, ${brotli} B brotli (budget ${BUDGET_BYTES} B)`);
    expect(gzip).toBeGreaterThan(1000);
    expect(gzip).toBeLessThan(BUDGET_BYTES);
  });
});
