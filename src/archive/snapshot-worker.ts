/**
 * A worker thread that writes one archive snapshot (snapshot.ts) and posts the result
 * back, so `llmtap backup` can draw its progress meanwhile (VACUUM INTO is one
 * synchronous statement). Loaded from dist/ like the writer's thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { snapshotArchive } from './snapshot.js';

const { source, dest } = workerData as { source: string; dest: string };
try {
  parentPort!.postMessage({ ok: true, result: snapshotArchive(source, dest) });
} catch (error) {
  parentPort!.postMessage({ ok: false, message: (error as Error).message });
}
