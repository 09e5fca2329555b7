import { writeFile } from 'node:fs/promises';
import { Command, InvalidArgumentError, Option } from 'commander';
import cliProgress from 'cli-progress';
import { loadConfigFile, ConfigError } from './agent/index.ts';
import { parseDuration } from './config/index.ts';
import { connectFromEnv } from './connections.ts';
import { pino } from 'pino';
import { continueRun, FileAudience, openRun, runTable } from './run/index.ts';
import { DEFAULT_RETENTION_DAYS, startServer } from './server/index.ts';
import { openWorkspace } from './service/index.ts';
import { redactedUrl } from './store/index.ts';
import { reportHtml, reportTable, SCENARIO_NAMES, simulate, type ScenarioName } from './simulate/index.ts';

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`must be a positive integer, got "${value}"`);
  return n;
}

function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0)
    throw new InvalidArgumentError(`must be a whole number of 0 or more, got "${value}"`);
  return n;
}

function duration(value: string): number {
  const ms = parseDuration(value);
  if (ms === undefined || ms <= 0)
    throw new InvalidArgumentError(`must be a duration such as 30s, 15m, 8h or 2d, got "${value}"`);
  return ms;
}

/** The exit code of a usage error (unknown command or option, missing or bad argument): a failure exits 1. */
const USAGE_ERROR = 2;

/** The store: `--db`, else NEXTBEST_DB_URL (a PostgreSQL URL holds a password), else the embedded SQLite file. */
const dbOption = () =>
  new Option(
    '--db <url>',
    'store: sqlite:FILE (embedded, one process) or postgres://USER:PASSWORD@HOST:PORT/DB (several instances)',
  )
    .env('NEXTBEST_DB_URL')
    .default('sqlite:./data/nextbest.db');

const program = new Command();
program
  .name('nextbest')
  .description('AI decisioning for the marketing stack you already run')
  // a command's usage error shows its help; commands inherit both settings when they are created
  .showHelpAfterError()
  .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : USAGE_ERROR))
  .addHelpText(
    'after',
    '\nExit codes: 0 done, 1 failed, 2 usage error (unknown command or option, bad argument), 3 a run stopped before completing.',
  );

program
  .command('simulate')
  .description(
    'run policies against a synthetic population whose true response is known, and compare them with the oracle',
  )
  .addOption(new Option('--scenario <name>', 'scenario').choices(SCENARIO_NAMES).default('retail'))
  .option('--decisions <n>', 'number of decisions', positiveInt, 50_000)
  .option('--seed <seed>', 'seed: the same seed reproduces the run exactly', '1')
  .option(
    '--policies <list>',
    'comma-separated: random, static-best, oracle, beta-ts, eps-greedy, linucb, lin-ts, logistic-ts, squarecb; parameters as kind:key=value, e.g. lin-ts:forgetting=0.995; kind:features=focused gives each dimension only the traits that drive it; kind:detect=on restarts learning when rewards fall well below the estimates (policy.detect), keeping kind:retain=<outcomes> of it (default 750); kind:restart=send_time+subject_line restarts those dimensions from the prior at each change (a diagnostic)',
  )
  .option('--json', 'print the report as JSON')
  .option('--out <file>', 'write a self-contained HTML report with learning curves')
  .action(
    async (opts: {
      scenario: ScenarioName;
      decisions: number;
      seed: string;
      policies?: string;
      json?: boolean;
      out?: string;
    }) => {
      const policies = opts.policies
        ?.split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      const bar = process.stderr.isTTY
        ? new cliProgress.SingleBar(
            { format: '{policy} [{bar}] {value}/{total}', stream: process.stderr, hideCursor: true },
            cliProgress.Presets.shades_classic,
          )
        : undefined;
      let current = '';
      const report = simulate({
        scenario: opts.scenario,
        decisions: opts.decisions,
        seed: opts.seed,
        policies,
        onProgress: bar
          ? (policy, done, total) => {
              if (policy !== current) {
                if (current) bar.stop();
                current = policy;
                bar.start(total, 0, { policy: policy.padEnd(24) });
              }
              bar.update(done);
            }
          : undefined,
      });
      bar?.stop();
      if (opts.out) await writeFile(opts.out, reportHtml(report));
      if (opts.json) {
        const { policies: results, ...rest } = report;
        process.stdout.write(
          `${JSON.stringify({ ...rest, policies: results.map(({ curve: _curve, ...p }) => p) }, null, 2)}\n`,
        );
      } else {
        process.stdout.write(`${reportTable(report)}\n`);
        if (opts.out) process.stdout.write(`\nwrote ${opts.out}\n`);
      }
    },
  );

program
  .command('validate')
  .description('check an agent config file (YAML or JSON) and print every error with its path')
  .argument('<file>', 'config file')
  .action(async (file: string) => {
    try {
      const config = await loadConfigFile(file);
      process.stdout.write(
        `${file}: valid (workspace ${config.workspace}, ${config.agents.length} agent${config.agents.length === 1 ? '' : 's'}: ${config.agents.map((a) => a.id).join(', ')})\n`,
      );
    } catch (err) {
      if (err instanceof ConfigError) {
        process.stderr.write(
          `${file}: ${err.errors.length} error${err.errors.length === 1 ? '' : 's'}\n${err.errors.map((e) => `  ${e}`).join('\n')}\n`,
        );
        process.exitCode = 1;
        return;
      }
      throw err;
    }
  });

program
  .command('serve')
  .description('start the decision service (HTTP API) on the embedded SQLite store by default')
  .option('--config <file>', 'agent config file (YAML or JSON) applied at start')
  .addOption(dbOption())
  .option('--port <n>', 'port', positiveInt, 8787)
  .option('--host <host>', 'interface to listen on', '127.0.0.1')
  .option('--seed <seed>', "seed of the decisions' randomness (default: the workspace secret)")
  .option(
    '--cors-origin <origin...>',
    'web origin allowed to call decide from a browser with a public key (repeatable; env NEXTBEST_CORS_ORIGINS, comma-separated)',
  )
  .option(
    '--retention-days <n>',
    'days decisions and events are kept before they are deleted (report aggregates are kept); 0 keeps everything',
    nonNegativeInt,
    DEFAULT_RETENTION_DAYS,
  )
  .option('--session-lifetime <duration>', 'how long a console sign-in lasts (e.g. 30m, 8h)', duration)
  .action(
    async (opts: {
      config?: string;
      db: string;
      port: number;
      host: string;
      seed?: string;
      corsOrigin?: string[];
      retentionDays: number;
      sessionLifetime?: number;
    }) => {
      let server;
      let connections;
      const corsOrigins =
        opts.corsOrigin ??
        (process.env.NEXTBEST_CORS_ORIGINS ?? '')
          .split(',')
          .map((o) => o.trim())
          .filter(Boolean);
      try {
        connections = connectFromEnv(process.env, opts.config ? (await loadConfigFile(opts.config)).agents : []);
        server = await startServer({
          useStore: connections.useStore,
          configPath: opts.config,
          db: opts.db,
          port: opts.port,
          host: opts.host,
          seed: opts.seed,
          retentionDays: opts.retentionDays,
          sessionLifetimeMs: opts.sessionLifetime,
          apiKey: process.env.NEXTBEST_API_KEY || undefined,
          corsOrigins,
          profileSource: connections.profileSource,
          audienceSource: connections.audienceSource,
          sinks: connections.sinks,
          extensions: connections.extensions,
        });
      } catch (err) {
        process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
        process.exit(1);
      }
      // handled before the banner says the service is up, so that a stop right after it is graceful too
      const stop = async () => {
        await server.close();
        await connections.close();
        process.exit(0);
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      const agent = server.service.agentIds()[0] ?? 'AGENT';
      // only a key generated by this start is printed: one from the environment would land in every log
      const key = server.generatedApiKey;
      const lines = [
        `nextbest listening on ${server.url} (store ${redactedUrl(opts.db)}, workspace ${server.service.workspace}, agents: ${server.service.agentIds().join(', ') || 'none'}, connected: ${connections.connected.join(', ') || 'none'})`,
        server.generatedApiKey
          ? `API key (shown once, stored hashed): ${server.generatedApiKey}\n  export NEXTBEST_API_KEY=${server.generatedApiKey}`
          : process.env.NEXTBEST_API_KEY
            ? 'API key: from NEXTBEST_API_KEY'
            : 'API key: this workspace already has keys (set NEXTBEST_API_KEY to add yours at start)',
        '',
        'Try a decision:',
        `  curl -s -X POST ${server.url}/v1/agents/${agent}/decide \\`,
        `    -H "Authorization: Bearer ${key ? key : '$NEXTBEST_API_KEY'}" -H "Content-Type: application/json" \\`,
        `    -d '{"userId":"u-123","timezone":"Europe/Paris","traits":{"lifetime_orders":4,"last_category":"running","email_subscribed":true,"sms_opt_in":true}}'`,
        '',
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
    },
  );

program
  .command('run')
  .description("decide for every member of an audience and deliver through the agent's delivery entries; resumable")
  .requiredOption('--agent <id>', 'agent id')
  .requiredOption(
    '--audience <ref>',
    'file:PATH.ndjson (one profile per line), list:ID or search:prop=value (HubSpot), or a Segment audience key',
  )
  .option('--dry-run', 'decide and log, deliver nothing')
  .option('--resume <runId>', 'continue an interrupted run where it stopped')
  .option('--config <file>', 'agent config file (YAML or JSON) applied first')
  .addOption(dbOption())
  .option('--seed <seed>', "seed of the decisions' randomness (default: the workspace secret)")
  .option('--chunk-size <n>', 'members per checkpoint, committed together (default 5000)', positiveInt)
  .option(
    '--concurrency <n>',
    'decisions in flight at once (default: the chunk size; lower it for a slow profile source)',
    positiveInt,
  )
  .option('--json', 'print the summary as JSON')
  .action(
    async (opts: {
      agent: string;
      audience: string;
      dryRun?: boolean;
      resume?: string;
      config?: string;
      db: string;
      seed?: string;
      chunkSize?: number;
      concurrency?: number;
      json?: boolean;
    }) => {
      const fail = (message: string, code = 1): never => {
        process.stderr.write(`${message}\n`);
        process.exit(code);
      };
      let connections;
      let ws;
      try {
        connections = connectFromEnv(process.env, opts.config ? (await loadConfigFile(opts.config)).agents : []);
        ws = await openWorkspace({
          useStore: connections.useStore,
          configPath: opts.config,
          db: opts.db,
          seed: opts.seed,
          ensureKey: false,
          sinks: connections.sinks,
          profileSource: connections.profileSource,
          logger: pino({ level: process.env.LOG_LEVEL ?? 'warn' }, pino.destination(2)),
        });
      } catch (err) {
        return fail(err instanceof Error ? err.message : String(err));
      }
      const source = connections.audienceSource(opts.audience);
      if (!source)
        return fail(
          `no profile source serves the audience ${JSON.stringify(opts.audience)}: use file:PATH, or connect HubSpot (list:, search:) or Segment (see docs)`,
        );
      let total: number | undefined;
      if (source instanceof FileAudience) {
        const checked = await source.check(opts.audience);
        if (checked.errors.length > 0)
          return fail(
            `${opts.audience}: bad lines, nothing was decided:\n${checked.errors.map((e) => `  ${e}`).join('\n')}`,
          );
        total = checked.members;
      }
      const abort = new AbortController();
      process.once('SIGINT', () => {
        process.stderr.write('\nstopping at the next checkpoint…\n');
        abort.abort();
      });
      const bar =
        process.stderr.isTTY && total !== undefined
          ? new cliProgress.SingleBar(
              {
                format: 'run [{bar}] {value}/{total} members · {delivered} delivered · {eta_formatted} left',
                stream: process.stderr,
                hideCursor: true,
              },
              cliProgress.Presets.shades_classic,
            )
          : undefined;
      let summary;
      try {
        const run = await openRun(
          ws.service,
          { agentId: opts.agent, audience: opts.audience, dryRun: opts.dryRun, resume: opts.resume },
          ws.store,
        );
        process.stderr.write(
          `run ${run.runId}${opts.resume ? ' resumed' : ''}: if it stops, continue with --resume ${run.runId}\n`,
        );
        bar?.start(total!, 0, { delivered: 0 });
        summary = await continueRun(ws.service, run, {
          store: ws.store,
          source,
          chunkSize: opts.chunkSize,
          concurrency: opts.concurrency,
          total,
          signal: abort.signal,
          onProgress: (p) => bar?.update(p.members, { delivered: p.delivered }),
        });
      } catch (err) {
        bar?.stop();
        await ws.store.close();
        return fail(err instanceof Error ? err.message : String(err));
      } finally {
        bar?.stop();
        for (const t of ws.service.agentIds().flatMap((id) => ws.service.deliveryTargets(id))) await t.sink?.close?.();
        await connections.close();
      }
      await ws.store.close();
      process.stdout.write(opts.json ? `${JSON.stringify(summary, null, 2)}\n` : `${runTable(summary)}\n`);
      if (summary.status !== 'completed') process.exitCode = 3;
    },
  );

const commandNames = program.commands.map((c) => c.name());
// at the top level, a usage error names the commands rather than printing the whole help
program.showHelpAfterError(`commands: ${commandNames.join(', ')}, help (nextbest <command> --help shows its options)`);

const args = process.argv.slice(2);
const operands = args.filter((a) => !a.startsWith('-'));
const named = operands[0] === 'help' ? operands[1] : operands[0];
if (named !== undefined && named !== 'help' && !commandNames.includes(named)) {
  // an unknown command is an error beside --help and after `help` too, where commander would print
  // the help instead (exit 0 for `nextbest evaluate --help`): parsed alone, it is reported as unknown
  await program.parseAsync([named], { from: 'user' });
} else {
  await program.parseAsync(process.argv);
}
