import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';

describe("the suite's temporary files", () => {
  it('go under the run directory global-setup.ts makes and removes, in workers and in the processes they start', () => {
    expect(tmpdir()).toMatch(/[\\/]llmtap-test-run-[^\\/]+$/);
    const child = spawnSync('node', ['-p', "require('node:os').tmpdir()"], { encoding: 'utf8' });
    expect(child.stdout.trim()).toBe(tmpdir());
  });
});
