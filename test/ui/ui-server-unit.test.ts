import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfigFile } from '../../src/config-file.js';
import { listWhere } from '../../src/archive/exchange-list.js';
import { canSee, isLoopbackHostHeader, viewerFor } from '../../src/ui/server/access.js';
import { curlCommand } from '../../src/ui/server/curl.js';
import { policySummary } from '../../src/ui/server/list-item.js';
import { notAppliedAt, policyLines } from '../../ui/src/policy-lines.js';
import { listTime, wsPayload } from '../../ui/src/format.js';
import { filtersFromQuery, matchesFilters, NO_FILTERS } from '../../ui/src/api.js';
import { periodRange, reportUrl } from '../../ui/src/usage-data.js';
import { compact, usedWidth } from '../../ui/src/policy-data.js';
import { parseReportQuery, USAGE_GROUPS } from '../../src/ui/server/usage.js';
import { parseListQuery } from '../../src/ui/server/list-query.js';
import { requestDiff } from '../../src/ui/server/request-diff.js';

describe('list filters', () => {
  it('become one parameterised WHERE clause; status takes codes, classes and "error"', () => {
    expect(listWhere({ limit: 10 })).toEqual({ sql: '', params: [] });
    // The model is any that answered: a WebSocket session that switched models is listed under each.
    expect(listWhere({ tool: 'codex', model: "x' OR 1=1", status: '4xx', limit: 10 })).toEqual({
      sql: 'WHERE tool_name = ? AND rowid IN (SELECT rowid FROM exchanges WHERE model = ? UNION ALL SELECT rowid FROM exchanges WHERE model_usage IS NOT NULL'
        + " AND EXISTS (SELECT 1 FROM json_each(model_usage) p WHERE json_extract(p.value, '$.model') = ?)) AND status >= ? AND status < ?",
      params: ['codex', "x' OR 1=1", "x' OR 1=1", 400, 500],
    });
    expect(listWhere({ status: '429', limit: 1 }).params).toEqual([429]);
    expect(listWhere({ status: 'error', limit: 1 }).sql).toContain("outcome != 'completed'");
    expect(listWhere({ status: 'nonsense', limit: 1 }).sql).toBe('');
  });

  it('pin a non-admin viewer to their own exchanges whatever the query says, and bound the limit', () => {
    const bob = viewerFor('bob', true, ['alice']);
    expect(bob.admin).toBe(false);
    expect(parseListQuery(new URLSearchParams('user=alice&limit=99999'), bob)).toMatchObject({ user: 'bob', limit: 1000 });
    expect(parseListQuery(new URLSearchParams('user=bob&q=%20hi%20'), viewerFor('alice', true, ['alice']))).toMatchObject({ user: 'bob', text: 'hi', limit: 200 });
    expect(parseListQuery(new URLSearchParams(''), viewerFor(undefined, false, []))).toMatchObject({ user: undefined });
  });
});

describe('access', () => {
  it('lets everyone see everything on a local proxy, admins everything on a gateway, others their own', () => {
    expect(canSee(viewerFor(undefined, false, []), 'anyone')).toBe(true);
    expect(canSee(viewerFor('alice', true, ['alice']), 'bob')).toBe(true);
    expect(canSee(viewerFor('bob', true, ['alice']), 'bob')).toBe(true);
    expect(canSee(viewerFor('bob', true, ['alice']), 'alice')).toBe(false);
    expect(canSee(viewerFor('bob', true, ['alice']), null)).toBe(false);
  });
});

describe('isLoopbackHostHeader (the DNS-rebinding guard of a local proxy)', () => {
  it('accepts loopback names and addresses only', () => {
    for (const ok of ['127.0.0.1:8080', 'localhost:8080', 'LOCALHOST', 'app.localhost:1', '[::1]:8080', '127.1.2.3']) expect(isLoopbackHostHeader(ok), ok).toBe(true);
    for (const bad of [undefined, '', 'evil.example:8080', '127.0.0.1.evil.example', '10.0.0.1:8080', 'localhost.evil.example']) expect(isLoopbackHostHeader(bad), String(bad)).toBe(false);
  });
});

describe('the uiAdmins config key', () => {
  it('takes a list of proxy users and refuses anything else, naming the key', () => {
    const dir = mkdtempSync(join(tmpdir(), 'llmtap-ui-config-'));
    writeFileSync(join(dir, 'ok.json'), '{ "uiAdmins": ["alice"] }');
    expect(loadConfigFile(join(dir, 'ok.json')).uiAdmins).toEqual(['alice']);
    writeFileSync(join(dir, 'bad.json'), '{ "uiAdmins": "alice" }');
    expect(() => loadConfigFile(join(dir, 'bad.json'))).toThrow(/"uiAdmins" must be an array of strings/);
  });
});

describe('policySummary', () => {
  it('names a block and its rule, and marks monitor-only decisions', () => {
    expect(policySummary(null)).toBeNull();
    expect(policySummary('{"decisions":[{"rule":"no-pii","kind":"redact","action":"block","enforced":true}],"blocked":"policy_blocked"}')).toBe('blocked: no-pii');
    expect(policySummary('{"decisions":[{"rule":"pii","kind":"redact","action":"replace","enforced":false}]}')).toBe('replace pii (monitor)');
  });
});

describe('policyLines', () => {
  it('words the decisions as show does; a record it cannot read has none (the page shows its JSON)', () => {
    expect(policyLines({ decisions: [{ rule: 'no-gpt5', kind: 'access', action: 'deny', enforced: true }], blocked: 'model_not_allowed' })).toEqual(['no-gpt5 · access deny', 'refused: model_not_allowed']);
    expect(policyLines(null)).toBeNull();
    expect(policyLines({ something: 'else' })).toBeNull();
    expect(policyLines({ decisions: [{ rule: 'r', kind: 'redact', action: 'replace', enforced: true }] })).toBeNull();
  });

  it('knows which decisions were not applied by any reason field, a newer build\'s too', () => {
    const route = { rule: 'r', kind: 'route', action: 'route', enforced: true, model: 'm' };
    expect(notAppliedAt({ decisions: [route, { ...route, modelNotApplied: 'signed' }, { ...route, pathPrefixNotApplied: 'signed' }, { rule: 'c', kind: 'limits', notApplied: 'signed' }, { rule: 'x', kind: 'teleport', beamNotApplied: 'why' }, { ...route, notApplied: true }, null] }))
      .toEqual([false, true, true, true, true, false, false]);
    expect(notAppliedAt(null)).toEqual([]);
    expect(notAppliedAt({ decisions: 'x' })).toEqual([]);
  });
});

describe('curlCommand', () => {
  it('leaves credentials out, names the environment variable instead, and quotes for the shell', () => {
    const curl = curlCommand({
      method: 'POST', host: 'api.anthropic.com', port: 443, scheme: 'https', path: '/v1/messages', provider: 'anthropic',
      request: { headers: { 'x-api-key': '[REDACTED]', authorization: 'Bearer [REDACTED]', cookie: 'a=b', 'anthropic-version': '2023-06-01' }, body: `{"q":"it's"}`, body_size: 12, body_truncated: false, body_stored: 'as_sent' },
    });
    // Each credential header it carried, under its own name, in the order recorded.
    expect(curl).toBe(`curl -g -X POST 'https://api.anthropic.com/v1/messages' \\\n  -H 'anthropic-version: 2023-06-01' \\\n  -H "x-api-key: $ANTHROPIC_API_KEY" \\\n  -H "authorization: Bearer $ANTHROPIC_API_KEY" \\\n  --data-raw '{"q":"it'\\''s"}'`);
    expect(curl).not.toMatch(/REDACTED|cookie/);
  });
  it('names the environment variable only where the recorded request sent a credential (a header, or Gemini\'s ?key=)', () => {
    const openai = (headers: Record<string, string>) => curlCommand({
      method: 'POST', host: 'api.openai.com', port: 443, scheme: 'https', path: '/v1/chat/completions', provider: 'openai',
      request: { headers: { 'content-type': 'application/json', ...headers }, body: '{}', body_size: 2, body_truncated: false, body_stored: 'as_sent' },
    });
    // None sent: a gateway's credentials rule put the key on, or the endpoint takes none.
    expect(openai({})).toBe(`curl -g -X POST 'https://api.openai.com/v1/chat/completions' \\\n  -H 'content-type: application/json' \\\n  --data-raw '{}'`);
    expect(openai({ cookie: 'a=b' })).not.toContain('OPENAI_API_KEY');
    expect(openai({ Authorization: 'Bearer [REDACTED]' })).toContain(`-H "authorization: Bearer $OPENAI_API_KEY"`);
    expect(openai({ 'api-key': '[REDACTED]' })).toContain('$OPENAI_API_KEY');
    const gemini = (path: string, headers: Record<string, string> = {}) => curlCommand({
      method: 'POST', host: 'generativelanguage.googleapis.com', port: 443, scheme: 'https', path, provider: 'gemini',
      request: { headers, body: '', body_size: 0, body_truncated: false, body_stored: 'as_sent' },
    });
    expect(gemini('/v1beta/models/gemini-2.5-flash:generateContent?key=[REDACTED]')).toBe(`curl -g -X POST 'https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent' \\\n  -H "x-goog-api-key: $GEMINI_API_KEY"`);
    expect(gemini('/v1beta/models/gemini-2.5-flash:generateContent', { 'x-goog-api-key': '[REDACTED]' })).toContain('$GEMINI_API_KEY');
    expect(gemini('/v1beta/models/gemini-2.5-flash:generateContent?alt=sse')).not.toContain('GEMINI_API_KEY');
  });
  it('the placeholder is the credential header the request carried, not the provider\'s usual one, with that provider\'s variable', () => {
    const curl = (provider: string | null, host: string, headers: Record<string, string>, path = '/v1/chat/completions') => curlCommand({
      method: 'POST', host, port: 443, scheme: 'https', path, provider,
      request: { headers, body: '', body_size: 0, body_truncated: false, body_stored: 'as_sent' },
    });
    const placeholders = (c: string) => c.split(' \\\n  ').filter((p) => p.startsWith('-H "'));
    // Claude Code signed in with a subscription sends an OAuth bearer token, no x-api-key.
    expect(placeholders(curl('anthropic', 'api.anthropic.com', { Authorization: '[REDACTED]', 'anthropic-beta': 'interleaved-thinking-2025-05-14, oauth-2025-04-20' }, '/v1/messages')))
      .toEqual(['-H "authorization: Bearer $ANTHROPIC_AUTH_TOKEN"']);
    // Recorded as subscription traffic (priced at API rates as such), whatever its headers.
    expect(placeholders(curlCommand({ method: 'POST', host: 'api.anthropic.com', port: 443, scheme: 'https', path: '/v1/messages', provider: 'anthropic', cost_source: 'api_equivalent', request: { headers: { authorization: '[REDACTED]' }, body: '', body_size: 0, body_truncated: false, body_stored: 'as_sent' } })))
      .toEqual(['-H "authorization: Bearer $ANTHROPIC_AUTH_TOKEN"']);
    // The Anthropic SDK sends an API key as a bearer token too: that is the key's variable.
    expect(placeholders(curl('anthropic', 'api.anthropic.com', { authorization: '[REDACTED]' }, '/v1/messages'))).toEqual(['-H "authorization: Bearer $ANTHROPIC_API_KEY"']);
    expect(placeholders(curl('openai-compatible', 'vllm.internal', { authorization: '[REDACTED]' }))).toEqual(['-H "authorization: Bearer $OPENAI_API_KEY"']);
    expect(placeholders(curl('openrouter', 'openrouter.ai', { authorization: '[REDACTED]' }, '/api/v1/chat/completions'))).toEqual(['-H "authorization: Bearer $OPENROUTER_API_KEY"']);
    expect(placeholders(curl('ollama', 'ollama.com', { authorization: '[REDACTED]' }, '/api/chat'))).toEqual(['-H "authorization: Bearer $OLLAMA_API_KEY"']);
    expect(placeholders(curl('azure-openai', 'my-res.openai.azure.com', { 'api-key': '[REDACTED]' }))).toEqual(['-H "api-key: $AZURE_OPENAI_API_KEY"']);
    expect(placeholders(curl('bedrock', 'bedrock-runtime.us-east-1.amazonaws.com', { authorization: '[REDACTED]' }, '/model/x/converse'))).toEqual(['-H "authorization: Bearer $AWS_BEARER_TOKEN_BEDROCK"']);
    // A gateway's own key header (LiteLLM, Portkey…): its name, a variable named after it; never its redaction marker.
    const gateway = curl('openai-compatible', 'gw.internal', { 'x-portkey-api-key': '[REDACTED]', 'content-type': 'application/json' });
    expect(placeholders(gateway)).toEqual(['-H "x-portkey-api-key: $X_PORTKEY_API_KEY"']);
    // A SigV4 signature cannot be re-sent with a key: none, and none of its signed credentials.
    const signed = curl('bedrock', 'bedrock-runtime.us-east-1.amazonaws.com', { authorization: '[REDACTED]', 'x-amz-date': '20261207T100000Z', 'x-amz-security-token': '[REDACTED]' }, '/model/x/converse');
    expect(placeholders(signed)).toEqual([]);
    for (const c of [gateway, signed]) expect(c).not.toContain('REDACTED');
  });
  it('uses the scheme the exchange went over, whatever its port', () => {
    const base = { method: 'GET', path: '/v1/models', provider: 'openai-compatible', request: { headers: {}, body: '', body_size: 0, body_truncated: false, body_stored: 'as_sent' } };
    expect(curlCommand({ ...base, host: '127.0.0.1', port: 8443, scheme: 'https' })).toBe(`curl -g -X GET 'https://127.0.0.1:8443/v1/models'`);
    expect(curlCommand({ ...base, host: '::1', port: 11434, scheme: 'http' })).toBe(`curl -g -X GET 'http://[::1]:11434/v1/models'`);
    expect(curlCommand({ ...base, host: 'example.test', port: 80, scheme: 'http' })).toBe(`curl -g -X GET 'http://example.test/v1/models'`);
  });
});

describe('requestDiff', () => {
  const user = (text: string) => ({ role: 'user' as const, blocks: [{ type: 'text' as const, text }] });
  it('reports messages past the common prefix, a changed system prompt and tools', () => {
    const d = requestDiff('prev', { system: 'a', tools: ['x', 'y'], messages: [user('1'), user('2')] }, { system: 'b', tools: ['y', 'z'], messages: [user('1'), user('2'), user('3')] });
    expect(d).toEqual({ previousExchangeId: 'prev', kept: 2, added: [user('3')], removed: [], system: { before: 'a', after: 'b' }, toolsAdded: ['z'], toolsRemoved: ['x'] });
  });
  it('shows a rewritten history (compaction) as removed and added messages', () => {
    const d = requestDiff('prev', { tools: [], messages: [user('1'), user('2')] }, { tools: [], messages: [user('1'), user('summary')] });
    expect(d).toMatchObject({ kept: 1, removed: [user('2')], added: [user('summary')] });
    expect(d.system).toBeUndefined();
  });
  it('lists only what a compaction rewrote: messages both requests keep are kept, wherever they are', () => {
    const d = requestDiff('prev', { tools: [], messages: [user('1'), user('2'), user('3'), user('4')] }, { tools: [], messages: [user('summary of 1'), user('3'), user('4'), user('5')] });
    expect(d).toMatchObject({ kept: 2, removed: [user('1'), user('2')], added: [user('summary of 1'), user('5')] });
    const edit = requestDiff('prev', { tools: [], messages: [user('1'), user('2'), user('3')] }, { tools: [], messages: [user('1'), user('2 edited'), user('3')] });
    expect(edit).toMatchObject({ kept: 2, removed: [user('2')], added: [user('2 edited')] });
  });
});

describe('the live list\'s time column', () => {
  it('shows the clock alone for today, the date too for an earlier day', () => {
    const now = new Date(2026, 11, 6, 21, 0, 0).getTime();
    expect(listTime(new Date(2026, 11, 6, 9, 5, 7).getTime(), now)).toBe('09:05:07');
    expect(listTime(new Date(2026, 11, 5, 23, 59, 59).getTime(), now)).toBe('2026-12-05 23:59:59');
  });
});

describe('a recorded WebSocket message as the exchange page shows it', () => {
  const b64 = (bytes: number[]) => Buffer.from(bytes).toString('base64');
  it('text as is; close with its code and reason; ping, pong and binary by size', () => {
    expect(wsPayload({ opcode: 1, size: 2, text: 'hi' })).toBe('hi');
    expect(wsPayload({ opcode: 8, size: 2, data_base64: b64([0x03, 0xe8]) })).toBe('close 1000');
    expect(wsPayload({ opcode: 8, size: 17, data_base64: b64([0x03, 0xf0, ...Buffer.from('model_not_allowed')]) })).toBe('close 1008 model_not_allowed');
    expect(wsPayload({ opcode: 8, size: 0, data_base64: '' })).toBe('close (no code)');
    expect(wsPayload({ opcode: 8, size: 0 })).toBe('close (no code)');
    expect(wsPayload({ opcode: 9, size: 4, data_base64: b64([1, 2, 3, 4]) })).toBe('ping, 4 bytes');
    expect(wsPayload({ opcode: 10, size: 1, data_base64: b64([1]) })).toBe('pong, 1 byte');
    expect(wsPayload({ opcode: 2, size: 3, data_base64: b64([1, 2, 3]) })).toBe('binary, 3 bytes');
  });
});

describe('the usage page', () => {
  const now = Date.parse('2026-12-06T15:00:00Z');
  it('periods in UTC: rolling windows, this month, last month (across a year), everything', () => {
    expect(periodRange('24h', now)).toEqual({ since: now - 86_400_000 });
    expect(periodRange('7d', now)).toEqual({ since: now - 7 * 86_400_000 });
    expect(periodRange('month', now)).toEqual({ since: Date.parse('2026-12-01T00:00:00Z') });
    expect(periodRange('last-month', now)).toEqual({ since: Date.parse('2026-11-01T00:00:00Z'), until: Date.parse('2026-12-01T00:00:00Z') });
    expect(periodRange('last-month', Date.parse('2027-01-15T00:00:00Z'))).toEqual({ since: Date.parse('2026-12-01T00:00:00Z'), until: Date.parse('2027-01-01T00:00:00Z') });
    expect(periodRange('all', now)).toEqual({});
    expect(reportUrl('usage', 'team', 'last-month', now, true)).toBe(`/ui/api/usage?by=team&since=${Date.parse('2026-11-01T00:00:00Z')}&until=${Date.parse('2026-12-01T00:00:00Z')}&format=csv`);
  });

  it('reads its query as a stats query: a non-admin counts only their own, whatever they ask; bad input is one line', () => {
    const teams = new Map([['bob', 'platform']]);
    const q = (s: string, viewer = viewerFor('alice', true, ['alice'])) => parseReportQuery(new URLSearchParams(s), viewer, teams, USAGE_GROUPS);
    expect(q('by=team&since=5&until=9&tool=codex&user=bob')).toEqual({ by: 'team', since: 5, until: 9, teams, tool: 'codex', anyModel: undefined, host: undefined, label: undefined, status: undefined, user: 'bob' });
    expect(q('model=gpt-5-mini')).toMatchObject({ anyModel: 'gpt-5-mini' });
    expect(q('user=alice', viewerFor('bob', true, ['alice']))).toMatchObject({ by: 'model', user: 'bob' });
    expect(q('by=session')).toEqual({ problem: 'by "session": expected one of model, tool, host, day, user, team, label' });
    expect(q('since=yesterday')).toEqual({ problem: 'since "yesterday": expected a time in epoch milliseconds' });
    expect(parseReportQuery(new URLSearchParams('by=team'), viewerFor(undefined, false, []), undefined, USAGE_GROUPS)).toEqual({ problem: 'by "team": the running policy names no teams' });
  });
});

describe('the policy page', () => {
  it('shows a rule\'s match and settings as one short line, and a budget key\'s use as a capped bar', () => {
    expect(compact({ model: 'gpt-5*', user: ['alice', 'bob'] })).toBe('model: gpt-5*, user: alice | bob');
    expect(compact({ budget: { usd: 5, period: 'day' } })).toBe('budget: {usd: 5, period: day}');
    expect(compact('deny')).toBe('deny');
    expect([compact({}), compact(null)]).toEqual(['', '']);
    expect([usedWidth(0.5), usedWidth(1.94), usedWidth(-1)]).toEqual(['50.0%', '100.0%', '0.0%']);
  });
});

describe('the list filtered from a link', () => {
  it('reads its filters from the query (the usage page links there) and filters live rows by user too', () => {
    expect(filtersFromQuery('model=gpt-4o&user=bob&nonsense=1')).toEqual({ ...NO_FILTERS, model: 'gpt-4o', user: 'bob' });
    expect(filtersFromQuery('')).toEqual(NO_FILTERS);
    const item = { user: 'bob', model: 'gpt-4o', status: 200, outcome: 'completed' } as never;
    expect(matchesFilters(item, { ...NO_FILTERS, user: 'bob' })).toBe(true);
    expect(matchesFilters(item, { ...NO_FILTERS, user: 'alice' })).toBe(false);
  });
});
