import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/**
 * The worker's code: plain JavaScript, so that it runs the same under tsx and without it. Every
 * `intervalMs` it runs a PASSIVE checkpoint on a connection of its own: the WAL's committed pages
 * are copied into the database file without blocking the writer, and the two fsyncs that a
 * checkpoint costs (synchronous=NORMAL) are waited for on this thread. Asked to `truncate`, it
 * runs a TRUNCATE checkpoint (every page copied, then the WAL cut to zero bytes) and answers
 * `done`, `busy` or the error's message.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.path, { fileMustExist: true });
db.pragma('busy_timeout = 1000');
db.pragma('synchronous = NORMAL');
let lastError;
const timer = setInterval(() => {
  try {
    const [result] = db.pragma('wal_checkpoint(PASSIVE)');
    lastError = undefined;
    if (result && result.checkpointed > 0) parentPort.postMessage({ copied: result.checkpointed });
  } catch (err) {
    const error = String((err && err.message) || err);
    if (error !== lastError) parentPort.postMessage({ error });
    lastError = error;
  }
}, workerData.intervalMs);
function truncate() {
  try {
    const [result] = db.pragma('wal_checkpoint(TRUNCATE)');
    return result && result.busy ? 'busy' : 'done';
  } catch (err) {
    return String((err && err.message) || err);
  }
}
parentPort.on('message', (message) => {
  if (message === 'truncate') {
    parentPort.postMessage({ truncated: truncate() });
    return;
  }
  clearInterval(timer);
  db.close();
  parentPort.close();
});
`;

/**
 * Checkpoints a WAL database from a worker thread, so that the process writing it does not copy
 * pages into the database file and wait for the disk in the middle of its commits (measured on a
 * batch run: checkpoints inside the commits cost about an eighth of its time, most of it waiting
 * for fsync). The writer keeps its own automatic checkpoint, at a higher threshold, in case this
 * thread falls behind or stops.
 */
export class WalCheckpointer {
  private readonly worker: Worker;
  private readonly exited: Promise<void>;
  private closing?: Promise<void>;
  private readonly waiting: (() => void)[] = [];
  /** The answer to the TRUNCATE checkpoint the thread is running, if it is running one. */
  private truncated?: (outcome: string) => void;
  /** The last TRUNCATE checkpoint asked for, and the next one (shared by every caller until it starts). */
  private lastTruncate: Promise<unknown> = Promise.resolve();
  private nextTruncate?: Promise<string>;
  private stopped = false;

  constructor(path: string, intervalMs: number, onError: (message: string) => void) {
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { path, intervalMs, driver } });
    this.worker.unref();
    this.worker.on('message', (m: { error?: string; copied?: number; truncated?: string }) => {
      if (m.error !== undefined) onError(m.error);
      if (m.copied !== undefined) for (const resolve of this.waiting.splice(0)) resolve();
      if (m.truncated !== undefined) this.answerTruncate(m.truncated);
    });
    // an error thrown in the thread may arrive as a plain object (a SqliteError keeps only its code)
    this.worker.on('error', (err: { message?: string; code?: string }) =>
      onError(err.message ?? err.code ?? String(err)),
    );
    this.exited = new Promise((resolve) =>
      this.worker.once('exit', () => {
        this.stopped = true;
        this.answerTruncate('the checkpointer thread has stopped');
        resolve();
      }),
    );
  }

  /**
   * Copies every committed page into the database file and truncates the WAL to zero bytes, so
   * that no older version of a page survives in it (what an erasure needs). Resolves with `done`,
   * `busy` (a connection held the database past the thread's busy timeout) or the error's message.
   * Callers that ask while one runs share the next one, which starts after their commits.
   */
  truncate(): Promise<string> {
    this.nextTruncate ??= this.truncateAfterLast();
    return this.nextTruncate;
  }

  private truncateAfterLast(): Promise<string> {
    const next = this.lastTruncate.then(() => {
      this.nextTruncate = undefined;
      return this.askTruncate();
    });
    this.lastTruncate = next;
    return next;
  }

  private askTruncate(): Promise<string> {
    if (this.closing) return Promise.resolve('the checkpointer is closed');
    if (this.stopped) return Promise.resolve('the checkpointer thread has stopped');
    return new Promise((resolve) => {
      this.truncated = resolve;
      this.worker.postMessage('truncate');
    });
  }

  private answerTruncate(outcome: string): void {
    const answer = this.truncated;
    this.truncated = undefined;
    answer?.(outcome);
  }

  /** Resolves after the next checkpoint that copies pages into the database file. */
  nextCopy(): Promise<void> {
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  /** Stops the thread (after the checkpoint it may be running) and closes its connection. */
  close(): Promise<void> {
    if (!this.closing) {
      this.worker.ref(); // keeps the process alive until the thread has closed its connection
      this.worker.postMessage('close');
      this.closing = this.exited;
    }
    return this.closing;
  }
}
