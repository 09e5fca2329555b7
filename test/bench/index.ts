/**
 * `npm run bench`: prints figures, each beside its floor measured in the same run where one
 * exists. Nothing here asserts on time.
 *
 * `npm run bench -- store http` runs only the named benches (decide, store, http, run, startup, blocking, scale, wide, evaluate); no name
 * runs all but scale, which builds stores of up to 10 M decisions (GBs, minutes) and runs only by
 * name: `npm run bench -- scale` (env NEXTBEST_SCALE_SIZES=0,100000 to run it small). The benches
 * that run the service in a process of its own (blocking, scale) pass NEXTBEST_BENCH_NODE_ARGS to
 * it, to profile it: NEXTBEST_BENCH_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof'.
 */
import os from 'node:os';
import '../setup/destinations.ts';
import { benchBlocking } from './blocking.bench.ts';
import { benchDecide } from './decide.bench.ts';
import { benchEvaluate } from './evaluate.bench.ts';
import { benchHttp } from './http.bench.ts';
import { benchRun } from './run.bench.ts';
import { benchScale } from './scale.bench.ts';
import { benchStartup } from './startup.bench.ts';
import { benchStore } from './store.bench.ts';
import { benchWide } from './wide.bench.ts';

const benches: Record<string, () => string[] | Promise<string[]>> = {
  decide: () => benchDecide(),
  store: () => benchStore(),
  http: () => benchHttp(),
  run: () => benchRun(),
  startup: () => benchStartup(),
  blocking: () => benchBlocking(),
  scale: () => benchScale(),
  wide: () => benchWide(),
  evaluate: () => benchEvaluate(),
};
/** Benches that run only when named. */
const byNameOnly = new Set(['scale']);

const asked = process.argv.slice(2);
const unknown = asked.filter((name) => !(name in benches));
if (unknown.length > 0) {
  console.error(
    `unknown bench ${unknown.map((n) => `"${n}"`).join(', ')}; choose from ${Object.keys(benches).join(', ')}`,
  );
  process.exit(2);
}

const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
console.log(`nextbest benchmarks: node ${process.version}, ${os.cpus().length} × ${cpu}`);
for (const [name, run] of Object.entries(benches)) {
  if (asked.length > 0 ? !asked.includes(name) : byNameOnly.has(name)) continue;
  console.log('');
  for (const line of await run()) console.log(line);
}
