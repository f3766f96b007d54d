import { describe, expect, it } from 'vitest';
import { exchangeToJson } from '../../src/archive/export.js';
import { exchangeUrl } from '../../src/archive/row-scheme.js';
import { makeExchange } from '../../src/exchange.js';
import { archivedRequest } from '../../src/policy/archived-request.js';
import { exchangeToRow } from '../../src/recorder/rows.js';

/** The scheme an exchange went over, kept in its row and read back by HAR, export, curl and `policy test`. */
describe('the tls column', () => {
  const over = (tls: boolean, port: number) => exchangeToRow(makeExchange({ target: { host: 'llm.internal', port, tls }, request: { path: '/v1/chat/completions' } }));

  it('is written from the exchange target, whatever the port', () => {
    expect([over(true, 8443).tls, over(false, 443).tls, over(true, 443).tls, over(false, 11434).tls]).toEqual([1, 0, 1, 0]);
  });

  it('decides the URL, the export scheme and what policy test replays against', () => {
    const tlsElsewhere = over(true, 8443);
    const plainOn443 = over(false, 443);
    expect([exchangeUrl(tlsElsewhere), exchangeUrl(plainOn443)]).toEqual(['https://llm.internal:8443/v1/chat/completions', 'http://llm.internal:443/v1/chat/completions']);
    expect([exchangeToJson(tlsElsewhere).scheme, exchangeToJson(plainOn443).scheme]).toEqual(['https', 'http']);
    expect([archivedRequest(tlsElsewhere, new Map()).target.tls, archivedRequest(plainOn443, new Map()).target.tls]).toEqual([true, false]);
  });

  it('rows from before the column (null) are guessed from the port: 443 is TLS', () => {
    const legacy = (port: number) => ({ ...over(true, port), tls: null });
    expect([archivedRequest(legacy(443), new Map()).target.tls, archivedRequest(legacy(8443), new Map()).target.tls, archivedRequest(legacy(80), new Map()).target.tls]).toEqual([true, false, false]);
    expect(exchangeToJson(legacy(11434)).scheme).toBe('http');
  });
});
