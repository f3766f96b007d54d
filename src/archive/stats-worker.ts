/**
 * A worker thread that reads one stats table from the archive and posts it back
 * (stats-off-thread.ts starts it). Loaded from dist/ like the writer's thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { SqliteArchiveReader } from './sqlite-reader.js';
import type { StatsQuery } from './store.js';

const { file, query } = workerData as { file: string; query: StatsQuery };
const reader = new SqliteArchiveReader(file, { readonly: true });
try {
  parentPort!.postMessage(reader.statsTable(query));
} finally {
  reader.close();
}
