import './regexp-fallback.js';
import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { SqliteArchiveReader } from './archive/sqlite-reader.js';
import type { SpendRow } from './policy/budget.js';
import { paths, type ProxyConfig } from './config.js';
import type { Logger } from './log.js';
import type { MockUpstream } from './mock/mock-upstream.js';
import { ProxyServer } from './proxy/server.js';
import { assertKnownSchema, type ArchiveOptions } from './recorder/db.js';
import { Recorder } from './recorder/recorder.js';
import { loadCachedAnswers } from './cache/load-cache.js';
import { loadOrCreateCa, writeTrustBundle, type CertificateAuthority } from './tls/ca.js';
import { LeafCertificates } from './tls/leaf.js';
import { recentExchangesReader } from './proxy/recent-exchanges.js';
import { loadPriceOverrides } from './cost/price-overrides.js';

export interface RunningProxy {
  address: AddressInfo;
  ca: CertificateAuthority;
  server: ProxyServer;
  recorder: Recorder;
  /** Minted leaf certificates (cache size, mints, hits via stats()). */
  leafs: LeafCertificates;
  /** Drain in-flight exchanges (up to the drain timeout), flush the archive, close everything. */
  close(drainTimeoutMs?: number): Promise<void>;
}

export interface StartOptions {
  archive?: ArchiveOptions;
  /**
   * The home whose CA the proxy presents, when not `config.home`: `llmtap mock` records
   * into its own home but must present the CA clients already trust.
   */
  caHome?: string;
  /** `llmtap mock`: answer intercepted requests from recordings, never forward them. */
  mock?: MockUpstream;
}

/**
 * Wires one proxy: CA (created on first run), the process-wide leaf key, the
 * archive and recorder, and the listening server. All key generation happens
 * here, before the first connection is accepted.
 */
export async function startProxy(config: ProxyConfig, logger: Logger, options: StartOptions = {}): Promise<RunningProxy> {
  const where = paths(config.home);
  assertKnownSchema(where.archive);
  const caPaths = paths(options.caHome ?? config.home);
  const { ca, created, warnings } = loadOrCreateCa(caPaths.certs);
  for (const warning of warnings) logger.warn(warning);
  if (created) logger.info({ cert: ca.certPath, fingerprint: ca.fingerprint256 }, 'created a new llmtap CA');
  writeTrustBundle(ca, caPaths.bundle);
  const leafs = new LeafCertificates(ca, { maxEntries: config.leafCacheSize ?? 1000 });
  // An archive that cannot be opened or written (other than a newer schema, refused
  // above) does not stop the proxy from starting: traffic is what people depend on.
  // The error is logged, the recorder retries on every batch (losses counted), and
  // --fail-closed answers 503 until a write works.
  // The archive is written by a worker thread, off the event loop. `options.archive`
  // is read on every (re)open (tests flip it to simulate a fix).
  const recorder = new Recorder({ file: where.archive, options: options.archive }, { logger: logger.child({ archive: where.archive }) });
  recorder.open();
  recorder.setRedactions(config.redact.map((source) => new RegExp(source, 'g')));
  const prices = config.prices ? loadPriceOverrides(config.prices) : undefined;
  if (prices) recorder.setPrices(prices);
  const recent = recentExchangesReader(where.archive);
  const server = new ProxyServer(config, { leafs, recorder, logger, prices, spend: (since) => archivedSpend(where.archive, since), caPem: ca.certPem, recentExchanges: recent.read, mock: options.mock });
  const cached = loadCachedAnswers(where.archive, server.policyState.responseCaches, config.policy);
  if (cached > 0) logger.info({ entries: cached }, 'response cache loaded from the archive');
  let address: AddressInfo;
  try {
    address = await server.listen();
  } catch (err) {
    recorder.close();
    throw err;
  }
  // Only a proxy that listens purges: a second `start` by mistake (the port in use: the
  // gateway already runs) must not delete by its own --retain-days before it fails.
  const retention = startRetention(recorder, config.retainDays);
  let closing: Promise<void> | undefined;
  return {
    address, ca, server, recorder, leafs,
    close(drainTimeoutMs) {
      closing ??= (async () => {
        if (retention) clearInterval(retention);
        await server.close(drainTimeoutMs);
        recorder.close();
        recent.close();
      })();
      return closing;
    },
  };
}

/** Budget rules start from the spend already archived for their period (read through the store seam, once per start or reload). */
function archivedSpend(file: string, since: number): SpendRow[] {
  if (!existsSync(file)) return [];
  const reader = new SqliteArchiveReader(file, { readonly: true });
  try {
    return reader.spendSince(since);
  } finally {
    reader.close();
  }
}

/** How often --retain-days purges (and once at start). */
const RETENTION_EVERY_MS = 3_600_000;

/** --retain-days N: what started more than N days ago is deleted at start and then hourly, by the writer thread. */
function startRetention(recorder: Recorder, days: number | undefined): NodeJS.Timeout | undefined {
  if (days === undefined) return undefined;
  const purge = (): void => recorder.purge(Date.now() - days * 86_400_000);
  purge();
  const timer = setInterval(purge, RETENTION_EVERY_MS);
  timer.unref();
  return timer;
}
