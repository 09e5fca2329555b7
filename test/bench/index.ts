/**
 * `npm run bench`: prints figures, each beside its floor measured in the same run where one
 * exists. Nothing here asserts on time.
 */
import os from 'node:os';
import { benchDecide } from './decide.bench.ts';

const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
console.log(`nextbest benchmarks: node ${process.version}, ${os.cpus().length} × ${cpu}`);
console.log('');
for (const line of benchDecide()) console.log(line);
