/**
 * A worker thread that reads one report from the archive (a stats table, the decisions
 * per policy rule, a time series) and posts it back; report-off-thread.ts starts it.
 * Loaded from dist/ like the writer's thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { SqliteArchiveReader } from './sqlite-reader.js';
import type { BackgroundReads } from './store.js';

const { file, read, query } = workerData as { file: string; read: keyof BackgroundReads; query: never };
const reader = new SqliteArchiveReader(file, { readonly: true });
try {
  parentPort!.postMessage(reader[read](query));
} finally {
  reader.close();
}
