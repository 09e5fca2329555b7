import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/**
 * The worker's code: plain JavaScript, so that it runs the same under tsx and without it. Every
 * `intervalMs` it runs a PASSIVE checkpoint on a connection of its own: the WAL's committed pages
 * are copied into the database file without blocking the writer, and the two fsyncs that a
 * checkpoint costs (synchronous=NORMAL) are waited for on this thread.
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
parentPort.once('message', () => {
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

  constructor(path: string, intervalMs: number, onError: (message: string) => void) {
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { path, intervalMs, driver } });
    this.worker.unref();
    this.worker.on('message', (m: { error?: string; copied?: number }) => {
      if (m.error !== undefined) onError(m.error);
      if (m.copied !== undefined) for (const resolve of this.waiting.splice(0)) resolve();
    });
    this.worker.on('error', (err) => onError(err.message));
    this.exited = new Promise((resolve) => this.worker.once('exit', () => resolve()));
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
