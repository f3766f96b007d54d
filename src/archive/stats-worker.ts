/**
 * A worker thread that reads one report from the archive (a stats table, or the
 * decisions per policy rule) and posts it back; stats-off-thread.ts starts it. Loaded
 * from dist/ like the writer's thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { ExchangeFilter } from './exchange-filter.js';
import { SqliteArchiveReader } from './sqlite-reader.js';
import type { StatsQuery } from './store.js';

const data = workerData as { file: string } & ({ read: 'statsTable'; query: StatsQuery } | { read: 'ruleStats'; query: ExchangeFilter });
const reader = new SqliteArchiveReader(data.file, { readonly: true });
try {
  parentPort!.postMessage(data.read === 'statsTable' ? reader.statsTable(data.query) : reader.ruleStats(data.query));
} finally {
  reader.close();
}
