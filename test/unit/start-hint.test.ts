import { describe, expect, it } from 'vitest';
import { defaultHome } from '../../src/config.js';
import { parseGateway } from '../../src/gateway-client/gateway-url.js';
import { startHint } from '../../src/cli/start-hint.js';

/** What `llmtap start` tells the person who started it to run next, on a local proxy and on a gateway. */
describe('start hint', () => {
  const home = defaultHome();

  it('a local proxy: llmtap env with the flags that name this proxy again', () => {
    expect(startHint({ home, address: '127.0.0.1', port: 8080, users: false, hostname: 'box' })).toEqual([
      'Point tools at it (in the shell that runs them):',
      '  eval "$(llmtap env)"',
    ]);
    expect(startHint({ home: '/tmp/h', address: '127.0.0.1', port: 9000, users: false, hostname: 'box' })[1]).toBe(`  eval "$(llmtap env --home '/tmp/h' --port 9000)"`);
  });

  it('a gateway: env --gateway with a user to log in as, at a name developers reach; never this machine\'s --home', () => {
    const lines = startHint({ home: '/var/lib/llmtap', address: '0.0.0.0', port: 8080, users: true, hostname: 'llmtap.internal' });
    expect(lines).toEqual([
      "Point tools at it (on each developer's machine, as their proxy user; they compare the CA SHA-256 above, or pass it as --gateway-fingerprint):",
      '  eval "$(llmtap env --gateway http://USER@llmtap.internal:8080)"',
    ]);
    // What the hint names is a URL env --gateway takes.
    const url = /--gateway (\S+)\)"$/.exec(lines[1]!)![1]!;
    expect(parseGateway(url)).toEqual({ host: 'llmtap.internal', port: 8080, user: 'USER' });
  });

  it('a gateway on one address names that address (IPv6 in brackets); users on loopback are a gateway too', () => {
    expect(startHint({ home, address: '10.1.2.3', port: 3128, users: true, hostname: 'box' })[1]).toBe('  eval "$(llmtap env --gateway http://USER@10.1.2.3:3128)"');
    expect(startHint({ home, address: 'fd00::7', port: 3128, users: true, hostname: 'box' })[1]).toBe('  eval "$(llmtap env --gateway http://USER@[fd00::7]:3128)"');
    expect(startHint({ home, address: '::', port: 3128, users: true, hostname: 'box' })[1]).toBe('  eval "$(llmtap env --gateway http://USER@box:3128)"');
    expect(startHint({ home, address: '127.0.0.1', port: 8080, users: true, hostname: 'box' })[1]).toBe('  eval "$(llmtap env --gateway http://USER@127.0.0.1:8080)"');
  });
});
