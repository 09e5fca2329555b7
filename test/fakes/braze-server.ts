/**
 * The fake Braze as a process of its own (for the run benchmark): prints its URL on the first
 * line of stdout, then serves until stdin closes. `--track-limit N` sets /users/track's requests
 * per 3 s window (Braze's default: 3,000).
 */
import { startFakeBraze } from './braze.ts';

const i = process.argv.indexOf('--track-limit');
const limit = i > 0 ? Number(process.argv[i + 1]) : 3000;
const fake = await startFakeBraze({
  apiKey: process.env.BRAZE_API_KEY ?? 'braze-test-key',
  trackLimit: { requests: limit, windowMs: 3000 },
});
process.stdout.write(`${fake.url}\n`);
process.stdin.resume();
process.stdin.on('end', () => {
  process.stderr.write(
    `fake braze: ${fake.tracked.length} attribute writes, ${fake.sends.length} sends, statuses ${JSON.stringify(Object.fromEntries(fake.statuses))}\n`,
  );
  void fake.close().then(() => process.exit(0));
});
