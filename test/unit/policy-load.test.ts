import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkConfig } from '../../src/cli/check-config.js';
import { loadPolicyFile, loadPolicyText } from '../../src/policy/load.js';
import { PolicyWatcher } from '../../src/policy/watch.js';
import { POLICY_SCHEMA } from '../../src/policy/schema.js';
import type { CompiledPolicy } from '../../src/policy/compile.js';

const fails = (text: string): string => {
  try {
    loadPolicyText(text, 'policy.yaml');
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('loaded');
};

describe('policy file loader', () => {
  it('names file, line, key path and problem for a wrong type', () => {
    const text = ['rules:', '  - id: a', '    action: deny', '  - id: b', '    action: allow', '  - id: c', '    match:', '      provider: openai', '      model: 3', '    action: deny'].join('\n');
    expect(fails(text)).toBe('policy.yaml:9: rules[2].match.model: must be string or array');
    expect(fails('version: 2\nrules: []\n')).toBe('policy.yaml:1: version: must be 1');
    // A team no `teams:` entry names would match nobody: a typo, refused.
    expect(fails('teams: {platform: [alice]}\nrules:\n  - {id: a, match: {team: platfrom}, action: deny}\n')).toBe('policy.yaml:3: rules[0].match.team: no team "platfrom" in teams: (platform)');
  });

  it('a value of the wrong form says what was given and what is expected (never a regular expression)', () => {
    expect(fails('rules:\n  - id: a\n    cache: {ttl: 10x}\n')).toBe('policy.yaml:3: rules[0].cache.ttl: "10x": expected a duration such as 30s, 10m, 1h or 7d');
    expect(fails('rules:\n  - id: a\n    credentials: {fromEnv: "1BAD"}\n')).toBe('policy.yaml:3: rules[0].credentials.fromEnv: "1BAD": expected an environment variable name (letters, digits and _)');
    // Every pattern in the schema comes with the description these messages are made of.
    const undescribed: string[] = [];
    const walk = (node: unknown, at: string): void => {
      if (!node || typeof node !== 'object') return;
      const o = node as Record<string, unknown>;
      if (typeof o.pattern === 'string' && typeof o.description !== 'string') undescribed.push(at);
      for (const [k, v] of Object.entries(o)) walk(v, `${at}/${k}`);
    };
    walk(POLICY_SCHEMA, '');
    expect(undescribed).toEqual([]);
  });

  it('refuses unknown keys at any depth, on the key\'s own line', () => {
    expect(fails('rules:\n  - id: a\n    action: deny\n    matc: {}\n')).toBe('policy.yaml:4: rules[0].matc: unknown key');
    expect(fails('rules: []\nteam: {}\n')).toBe('policy.yaml:2: team: unknown key');
    expect(fails('rules:\n  - redact:\n      detectors: [email]\n      mode: block\n')).toBe('policy.yaml:4: rules[0].redact.mode: unknown key');
  });

  it('reads JSON with the same positions', () => {
    expect(fails('{\n  "rules": [\n    {"id": "a", "action": "deny", "bogus": 1}\n  ]\n}')).toBe('policy.yaml:3: rules[0].bogus: unknown key');
  });

  it('checks what the schema cannot: one action per rule, regexes, CIDRs, duplicate ids', () => {
    expect(fails('rules:\n  - id: a\n    match: {model: x}\n')).toMatch(/^policy\.yaml:2: rules\[0\]: needs one action: action, redact, rateLimit, cache, budget, limits, route, fallback, credentials/);
    expect(fails('rules:\n  - action: deny\n    rateLimit: {requestsPerMinute: 1}\n')).toMatch(/^policy.yaml:2: rules\[0\]: has action and rateLimit/);
    expect(fails('rules:\n  - redact:\n      patterns:\n        - name: x\n          regex: "(("\n')).toMatch(/^policy.yaml:5: rules\[0\]\.redact\.patterns\[0\]\.regex: not a valid regular expression/);
    expect(fails('rules:\n  - match: { client: 10.0.0.0/33 }\n    action: deny\n')).toBe('policy.yaml:2: rules[0].match.client: "10.0.0.0/33" is not an IP address or CIDR');
    expect(fails('rules:\n  - {id: a, action: deny}\n  - {id: a, action: allow}\n')).toBe('policy.yaml:3: rules[1].id: duplicate rule id "a"');
  });

  it('reports YAML syntax errors with their line', () => {
    expect(fails('rules:\n  - id: a\n    action: [deny\n')).toMatch(/^policy.yaml:\d+: /);
    expect(fails('rules:\n  - id: a\n    id: b\n')).toMatch(/^policy.yaml:3: Map keys must be unique/);
  });

  it('compiles a good file into rules by kind', () => {
    const p = loadPolicyText('version: 1\nteams: { core: [alice, bob] }\nrules:\n  - action: allow\n    match: { model: "gpt-4o*" }\n  - redact: {}\n  - rateLimit: { requestsPerMinute: 5, per: team }\n', 'p.yaml');
    expect([p.access.length, p.redact.length, p.rateLimit.length, p.teams.get('bob')]).toEqual([1, 1, 1, 'core']);
    expect(p.redact[0]!.detectors.map((d) => d.name)).toEqual(['private_key', 'jwt', 'api_key', 'email', 'iban', 'card', 'ipv4']);
  });
});

describe('check-config and reload', () => {
  const dir = mkdtempSync(join(tmpdir(), 'llmtap-policy-'));

  it('check-config summarises a policy, a config naming one, and refuses a bad one', () => {
    const policy = join(dir, 'policy.yaml');
    writeFileSync(policy, 'rules:\n  - id: deny-big\n    match: { model: "gpt-5*" }\n    action: deny\n    mode: monitor\n');
    expect(checkConfig(policy)).toEqual({ summary: `${policy}: ok, policy with 1 rule (1 access, 0 redact, 0 rate limit; 1 in monitor mode), 0 teams`, warnings: [] });
    const config = join(dir, 'llmtap.json');
    writeFileSync(config, JSON.stringify({ policy: 'policy.yaml', logLevel: 'warn' }));
    expect(checkConfig(config).summary).toMatch(/ok, config with 2 settings; .*policy\.yaml: policy with 1 rule /);
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{"version": 1, "rules": [{"action": "deny", "x": 1}]}');
    expect(() => checkConfig(bad)).toThrow(`${bad}:1: rules[0].x: unknown key`);
  });

  it('a bad reload keeps the running policy and says why; a good one replaces it', async () => {
    const file = join(dir, 'live.yaml');
    writeFileSync(file, 'rules:\n  - {id: one, action: deny}\n');
    let running: CompiledPolicy = loadPolicyFile(file);
    const refused: string[] = [];
    const watcher = new PolicyWatcher(file, { loaded: (p) => { running = p; }, refused: (m) => refused.push(m) }, 20);
    writeFileSync(file, 'rules:\n  - {id: two, action: deny, typo: 1}\n');
    expect(watcher.reload()).toBe(false);
    expect(running.access[0]!.id).toBe('one');
    expect(refused).toEqual([`${file}:2: rules[0].typo: unknown key`]);
    // On change, through fs.watch (debounced).
    watcher.start();
    writeFileSync(file, 'rules:\n  - {id: three, action: allow}\n');
    for (let i = 0; i < 100 && running.access[0]!.id !== 'three'; i++) await new Promise((r) => setTimeout(r, 20));
    watcher.close();
    expect(running.access[0]!.id).toBe('three');
  });
});
