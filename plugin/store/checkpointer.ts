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
    db.pragma('wal_checkpoint(PASSIVE)');
    lastError = undefined;
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

  constructor(path: string, intervalMs: number, onError: (message: string) => void) {
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { path, intervalMs, driver } });
    this.worker.unref();
    this.worker.on('message', (m: { error?: string }) => m.error !== undefined && onError(m.error));
    this.worker.on('error', (err) => onError(err.message));
    this.exited = new Promise((resolve) => this.worker.once('exit', () => resolve()));
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
