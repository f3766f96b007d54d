/**
 * A worker thread that reads reports from the archive (a stats table, the decisions per
 * policy rule, a time series, the web UI list's text search, session, exchange and usage views) and posts each back; report-off-thread.ts starts it and
 * keeps it while reads come. A read that throws (or an archive it cannot open) is answered
 * with its message, and the thread stays. Loaded from dist/ like the writer's thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { WorkerAnswer } from '../worker-entry.js';
import { exchangePage } from '../ui/server/exchange-page.js';
import { sessionPage } from '../ui/server/session-page.js';
import { usagePage } from '../ui/server/usage.js';
import { SqliteArchiveReader } from './sqlite-reader.js';
import type { BackgroundReads } from './store.js';

const { file } = workerData as { file: string };
/** Opened by the first read (an archive that cannot be opened yet is tried again by the next). */
let reader: SqliteArchiveReader | undefined;
// One read at a time: ReportThread sends the next only after this one's answer.
parentPort!.on('message', async ({ read, query }: { read: keyof BackgroundReads; query: never }) => {
  let answer: WorkerAnswer;
  try {
    reader ??= new SqliteArchiveReader(file, { readonly: true });
    // The session, exchange and usage views are put together from several of the reader's reads (and a price module loaded on demand).
    answer = {
      ok: true,
      result: read === 'sessionPage' ? await sessionPage(reader, query) : read === 'exchangePage' ? await exchangePage(reader, query)
        : read === 'usagePage' ? await usagePage(reader, query) : reader[read](query),
    };
  } catch (error) {
    answer = { ok: false, message: (error as Error).message };
  }
  // A page's bytes are moved to the proxy's thread, not copied.
  const bytes = answer.ok && answer.result instanceof Uint8Array ? answer.result.buffer : undefined;
  parentPort!.postMessage(answer, bytes instanceof ArrayBuffer ? [bytes] : []);
});
