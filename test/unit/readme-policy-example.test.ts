import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { checkConfig } from '../../src/cli/check-config.js';
import { loadPolicyFile } from '../../src/policy/load.js';

/** The README's "Policy" section opens with a commented example file; it must stay a valid policy with every kind of rule. */
function readmeExample(): string {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const section = readme.slice(readme.indexOf('\n## Policy\n'));
  const block = /```yaml\n([\s\S]*?)```/.exec(section);
  if (!block) throw new Error('README "Policy" has no ```yaml block');
  return block[1]!;
}

describe('the README policy example', () => {
  const saved = process.env.OPENAI_API_KEY;
  afterEach(() => {
    if (saved === undefined) delete process.env.OPENAI_API_KEY;
    else process.env.OPENAI_API_KEY = saved;
  });

  it('passes check-config and has at least one rule of every kind, and one in monitor mode', () => {
    process.env.OPENAI_API_KEY = 'sk-readme-example-not-a-key'; // its credentials rule reads this variable
    const file = join(mkdtempSync(join(tmpdir(), 'llmtap-readme-')), 'policy.yaml');
    writeFileSync(file, readmeExample());
    // No warnings either: no budget rule in it is one an enforced rule above shadows.
    expect(checkConfig(file)).toEqual({ summary: expect.stringMatching(/: ok, policy with \d+ rules/), warnings: [] });
    const policy = loadPolicyFile(file);
    const kinds = ['access', 'redact', 'rateLimit', 'cache', 'budget', 'limits', 'route', 'fallback', 'credentials'] as const;
    expect(kinds.filter((k) => policy[k].length === 0)).toEqual([]);
    expect(kinds.some((k) => policy[k].some((r) => r.mode === 'monitor'))).toBe(true);
    expect(policy.teams.size).toBeGreaterThan(0);
  });
});
