import { exchangeLines, tunnelLines, type ExportedExchange } from '../../src/archive/export.js';
import { paths } from '../../src/config.js';
import { openArchive } from '../../src/recorder/db.js';
import type { TestProxy } from './start-proxy.js';

/** Flushes the running proxy's recorder and reads the archive back through `export`. */
export function exported(tp: TestProxy): ExportedExchange[] {
  tp.proxy.recorder.flush();
  const archive = openArchive(paths(tp.home).archive);
  const lines = [...exchangeLines(archive)];
  archive.close();
  return lines.map((l) => JSON.parse(l) as ExportedExchange);
}

export function exportedTunnels(tp: TestProxy): Array<Record<string, unknown>> {
  tp.proxy.recorder.flush();
  const archive = openArchive(paths(tp.home).archive);
  const lines = [...tunnelLines(archive)];
  archive.close();
  return lines.map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** Polls until `check` passes (exchanges are recorded just after the client's last byte). */
export async function eventually<T>(check: () => T | Promise<T>, timeoutMs = 3000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}
