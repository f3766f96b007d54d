/**
 * What the policy measuring scripts (profile-policy.ts, policy-marginal.ts) share: a
 * temporary folder, the fake provider and the load generator in their own processes,
 * the bench policy's credential in the environment, and clean-up on any exit.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeFakeCerts } from './certs.js';
import { LoadGen } from './loadgen-client.js';
import { BENCH_KEY_ENV } from './policy-file.js';
import { forkTracked, installCleanup, nextMessage, stopAll } from './procs.js';
import type { FakeInfo } from './systems.js';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));

export interface PolicyHarness {
  tmp: string;
  fake: FakeInfo;
  load: LoadGen;
}

/** Runs `body` with a started harness; stops every child and removes the folder however it ends. */
export function runWithHarness(name: string, body: (h: PolicyHarness) => Promise<void>): void {
  const run = async (): Promise<void> => {
    installCleanup();
    const tmp = mkdtempSync(join(tmpdir(), `llmtap-${name}-`));
    const certs = makeFakeCerts(tmp);
    const fakeChild = forkTracked(join(ROOT, 'bench', 'fake-upstream.ts'), [join(tmp, 'fake-leaf.pem'), join(tmp, 'fake-leaf-key.pem')]);
    const ready = await nextMessage<{ httpsPort: number; blastPort: number }>(fakeChild, (m) => m.ready, 30_000, 'fake provider');
    const fake: FakeInfo = { httpsPort: ready.httpsPort, blastPort: ready.blastPort, caFile: certs.caFile, caPem: certs.caPem };
    const load = new LoadGen(forkTracked(join(ROOT, 'bench', 'loadgen.ts'), []));
    process.env[BENCH_KEY_ENV] ??= 'sk-bench-gateway-key';
    try {
      await body({ tmp, fake, load });
    } finally {
      await stopAll();
      rmSync(tmp, { recursive: true, force: true });
    }
  };
  void run().catch((err) => {
    process.stderr.write(`${(err as Error).stack}\n`);
    process.exit(1);
  });
}

/** CPU ms of a process's main thread (its event loop) so far, split: user (JavaScript, OpenSSL, Node's C++) and system (the kernel: sockets, files). */
export function mainThreadCpu(pid: number, read: (file: string) => string): { userMs: number; systemMs: number } {
  const stat = read(`/proc/${pid}/task/${pid}/stat`);
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { userMs: Number(f[11]) * 10, systemMs: Number(f[12]) * 10 };
}
