import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProxyAgent } from 'undici';
import { startProxy, type RunningProxy } from '../../src/app.js';
import { DEFAULTS, parseConnectTo, type ProxyConfig } from '../../src/config.js';
import { silentLogger, type Logger } from '../../src/log.js';
import type { ArchiveOptions } from '../../src/recorder/db.js';
import type { FakeProvider } from './fake-provider.js';

export interface TestProxy {
  proxy: RunningProxy;
  home: string;
  url: string;
  /** llmtap's CA, as a client must trust it. */
  caPem: string;
  /** An undici dispatcher that sends requests through the proxy and trusts its CA. */
  agent: ProxyAgent;
  close(): Promise<void>;
}

export const FAKE_HOSTS = ['api.openai.com', 'api.anthropic.com'];

/** Starts llmtap on a free loopback port with a fresh home; provider hosts reach the fake provider. */
export async function startTestProxy(
  fake: FakeProvider | undefined,
  overrides: Partial<ProxyConfig> = {},
  options: { logger?: Logger; archive?: ArchiveOptions } = {},
): Promise<TestProxy> {
  const home = overrides.home ?? mkdtempSync(join(tmpdir(), 'llmtap-home-'));
  const connectTo = fake ? FAKE_HOSTS.map((h) => parseConnectTo(`${h}:443:127.0.0.1:${fake.port}`)) : [];
  const config: ProxyConfig = {
    ...DEFAULTS,
    home,
    port: 0,
    connectTo,
    upstreamCa: fake ? [fake.caFile] : [],
    drainTimeoutMs: 2000,
    ...overrides,
  };
  const proxy = await startProxy(config, options.logger ?? silentLogger(), { archive: options.archive });
  const url = `http://127.0.0.1:${proxy.address.port}`;
  const caPem = readFileSync(proxy.ca.certPath, 'utf8');
  const agent = new ProxyAgent({ uri: url, requestTls: { ca: caPem } });
  return {
    proxy, home, url, caPem, agent,
    async close() {
      await agent.close();
      await proxy.close();
    },
  };
}
