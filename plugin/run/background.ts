import type { Logger } from 'pino';
import type { ProfileSource } from '../agent/index.ts';
import type { DecisionService } from '../service/index.ts';
import type { RunRow, Store } from '../store/index.ts';
import { continueRun, openRun, RunError, type RunRequest } from './run.ts';

/**
 * Runs started over HTTP (`POST /v1/agents/{id}/runs`): each is opened at once (so a bad request
 * fails before the 202) and carried on in the background; `close` stops them at their next
 * checkpoint, from which they can be resumed.
 */
export class BackgroundRuns {
  private readonly active = new Map<string, { done: Promise<unknown>; abort: AbortController }>();

  constructor(
    private readonly options: {
      store: Store;
      logger: Logger;
      /** The profile source that serves an audience reference, or undefined when none does. */
      sourceFor: (ref: string) => ProfileSource | undefined;
    },
  ) {}

  async start(service: DecisionService, request: RunRequest): Promise<RunRow> {
    service.agentConfig(request.agentId); // 404 first
    const source = this.options.sourceFor(request.audience);
    if (!source)
      throw new RunError('bad_request', `no profile source serves the audience ${JSON.stringify(request.audience)}`);
    if (request.resume && this.active.has(request.resume))
      throw new RunError('conflict', `run "${request.resume}" is already running`);
    // Reserved before the first await, so that two resumes of one run cannot both start.
    const abort = new AbortController();
    if (request.resume) this.active.set(request.resume, { done: Promise.resolve(), abort });
    let run: RunRow;
    try {
      run = await openRun(service, request, this.options.store);
    } catch (err) {
      if (request.resume) this.active.delete(request.resume);
      throw err;
    }
    // Smaller chunks than the CLI's: the same process answers decide, and a chunk's commit pauses it.
    const done = continueRun(service, run, {
      store: this.options.store,
      source,
      signal: abort.signal,
      chunkSize: 1000,
      deliveryBatch: 1000,
    })
      .then((summary) =>
        this.options.logger.info({ runId: run.runId, status: summary.status, members: summary.members }, 'run ended'),
      )
      .catch(async (err: unknown) => {
        this.options.logger.error({ err, runId: run.runId }, 'run failed');
        await this.options.store
          .updateRun(
            run.workspace,
            run.runId,
            { status: 'failed', summary: { error: (err as Error).message } },
            service.now(),
          )
          .catch(() => undefined);
      })
      .finally(() => this.active.delete(run.runId));
    this.active.set(run.runId, { done, abort });
    return run;
  }

  isActive(runId: string): boolean {
    return this.active.has(runId);
  }

  /** Stops every run at its next checkpoint and waits for them. */
  async close(): Promise<void> {
    for (const r of this.active.values()) r.abort.abort();
    await Promise.all([...this.active.values()].map((r) => r.done));
  }
}
