/**
 * Preload for `bench/profile-policy.ts` (NODE_ARGS='--import bench/heap-sampling.mjs', HEAP_DIR=dir):
 * a sampling heap profile of the main thread that keeps objects already collected, so it shows
 * where garbage is made (node's --heap-prof keeps only what is still alive at exit). Written at exit
 * as DIR/alloc-<pid>.heapprofile; `node bench/heap-diff.mjs PLAIN N1 POLICY N2` compares two per request.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';

const session = new Session();
session.connect();
session.post('HeapProfiler.startSampling', { samplingInterval: 8192, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
process.once('exit', () => {
  session.post('HeapProfiler.stopSampling', (err, r) => {
    if (!err) writeFileSync(`${process.env.HEAP_DIR ?? '.'}/alloc-${process.pid}.heapprofile`, JSON.stringify(r.profile));
  });
});
