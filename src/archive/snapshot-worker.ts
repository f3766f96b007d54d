/**
 * A worker thread that writes one archive snapshot (snapshot.ts) and posts the result
 * back, so `llmtap backup` can draw its progress meanwhile (VACUUM INTO is one
 * synchronous statement). Loaded from dist/ like the writer's thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { WorkerAnswer } from '../worker-entry.js';
import { snapshotArchive, type SnapshotResult } from './snapshot.js';

const { source, dest } = workerData as { source: string; dest: string };
let answer: WorkerAnswer<SnapshotResult>;
try {
  answer = { ok: true, result: snapshotArchive(source, dest) };
} catch (error) {
  answer = { ok: false, message: (error as Error).message };
}
parentPort!.postMessage(answer);
