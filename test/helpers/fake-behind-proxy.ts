import { afterAll, beforeAll, beforeEach } from 'vitest';
import { startFakeProvider, type FakeProvider } from './fake-provider.js';
import { startTestProxy, type TestProxy } from './start-proxy.js';

/**
 * The set-up many proxy tests share: a fake provider and a test proxy in front of it,
 * started before the file's tests, closed after them, the fake's record of what it was
 * sent cleared before each test. Read `fake` and `tp` inside the tests (set by then).
 */
export function fakeBehindProxy(): { readonly fake: FakeProvider; readonly tp: TestProxy } {
  const env = {} as { fake: FakeProvider; tp: TestProxy };
  beforeAll(async () => {
    env.fake = await startFakeProvider();
    env.tp = await startTestProxy(env.fake);
  });
  beforeEach(() => {
    env.fake.seen.length = 0;
  });
  afterAll(async () => {
    await env.tp?.close();
    await env.fake?.close();
  });
  return env;
}
