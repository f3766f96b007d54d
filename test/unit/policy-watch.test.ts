/**
 * The policy watcher against real files, symlinks and fs events: a Kubernetes
 * ConfigMap or Secret volume updates by writing a new timestamped directory and
 * renaming a `..data` symlink over the old one, so the policy path itself never
 * changes; edits in place and unrelated files in the same directory must still
 * behave as before.
 */
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { CompiledPolicy } from '../../src/policy/compile.js';
import { loadPolicyFile } from '../../src/policy/load.js';
import { PolicyWatcher } from '../../src/policy/watch.js';

/** A volume laid out as the kubelet does it: `name -> ..data/name`, `..data -> ..<version>`. */
function volume(files: Record<string, string>): { dir: string; update(next: Record<string, string>): void } {
  const dir = mkdtempSync(join(tmpdir(), 'llmtap-configmap-'));
  let version = 0;
  const write = (next: Record<string, string>): string => {
    const v = `..2026_12_06_v${++version}`;
    mkdirSync(join(dir, v));
    for (const [name, text] of Object.entries(next)) writeFileSync(join(dir, v, name), text);
    return v;
  };
  const first = write(files);
  symlinkSync(first, join(dir, '..data'));
  for (const name of Object.keys(files)) symlinkSync(join('..data', name), join(dir, name));
  return {
    dir,
    update(next) {
      const old = `..2026_12_06_v${version}`;
      symlinkSync(write(next), join(dir, '..data_tmp'));
      renameSync(join(dir, '..data_tmp'), join(dir, '..data')); // mv -T: one atomic swap
      rmSync(join(dir, old), { recursive: true });
    },
  };
}

const until = async (done: () => boolean, ms = 3000): Promise<void> => {
  for (const end = Date.now() + ms; !done() && Date.now() < end;) await new Promise((r) => setTimeout(r, 10));
};
const rule = (id: string): string => `rules:\n  - {id: ${id}, action: deny}\n`;

describe('policy reload on disk changes', () => {
  let watcher: PolicyWatcher | undefined;
  afterEach(() => watcher?.close());

  function follow(file: string): { running: () => CompiledPolicy; loads: () => number; refused: string[] } {
    let running = loadPolicyFile(file);
    let loads = 0;
    const refused: string[] = [];
    watcher = new PolicyWatcher(file, { loaded: (p) => { running = p; loads++; }, refused: (m) => refused.push(m) }, 20).start();
    return { running: () => running, loads: () => loads, refused };
  }

  it('a ConfigMap update (the ..data symlink swapped) loads the new policy', async () => {
    const cm = volume({ 'policy.yaml': rule('v1') });
    const w = follow(join(cm.dir, 'policy.yaml'));
    cm.update({ 'policy.yaml': rule('v2') });
    await until(() => w.running().access[0]!.id === 'v2');
    expect([w.running().access[0]!.id, w.loads(), w.refused]).toEqual(['v2', 1, []]);
    // And again: the directory the path resolves to changed, the watch did not.
    cm.update({ 'policy.yaml': rule('v3') });
    await until(() => w.running().access[0]!.id === 'v3');
    expect(w.running().access[0]!.id).toBe('v3');
  });

  it('a ConfigMap update to a broken file keeps the running policy and says why; the next good one loads', async () => {
    const cm = volume({ 'policy.yaml': rule('good') });
    const file = join(cm.dir, 'policy.yaml');
    const w = follow(file);
    cm.update({ 'policy.yaml': 'rules:\n  - {id: bad, action: deny, typo: 1}\n' });
    await until(() => w.refused.length > 0);
    expect(w.refused).toEqual([`${file}:2: rules[0].typo: unknown key`]);
    expect([w.running().access[0]!.id, w.loads()]).toEqual(['good', 0]);
    cm.update({ 'policy.yaml': rule('fixed') });
    await until(() => w.running().access[0]!.id === 'fixed');
    expect([w.running().access[0]!.id, w.refused.length]).toEqual(['fixed', 1]);
  });

  it('a rotated credentials file (a Secret volume elsewhere) is read again, and the new key injected', async () => {
    const secret = volume({ 'openai.key': 'sk-old\n' });
    const dir = mkdtempSync(join(tmpdir(), 'llmtap-policy-'));
    const file = join(dir, 'policy.yaml');
    writeFileSync(file, `rules:\n  - id: key\n    credentials: {fromFile: ${JSON.stringify(join(secret.dir, 'openai.key'))}}\n`);
    const w = follow(file);
    expect(w.running().credentials[0]!.secret.reveal()).toBe('sk-old');
    secret.update({ 'openai.key': 'sk-new\n' });
    await until(() => w.running().credentials[0]!.secret.reveal() === 'sk-new');
    expect(w.running().credentials[0]!.secret.reveal()).toBe('sk-new');
    // An empty key (a rotation half done) is refused; the last good key stays.
    secret.update({ 'openai.key': '' });
    await until(() => w.refused.length > 0);
    expect(w.refused[0]).toMatch(/openai\.key is empty \(rule "key"\)$/);
    expect(w.running().credentials[0]!.secret.reveal()).toBe('sk-new');
  });

  it('an edit in place and an atomic rename still reload; another file in the directory does not', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'llmtap-policy-'));
    const file = join(dir, 'policy.yaml');
    writeFileSync(file, rule('one'));
    const w = follow(file);
    writeFileSync(join(dir, 'notes.txt'), 'unrelated');
    writeFileSync(join(dir, '.policy.yaml.swp'), 'editor scratch');
    await new Promise((r) => setTimeout(r, 200));
    expect(w.loads()).toBe(0);
    writeFileSync(file, rule('two'));
    await until(() => w.running().access[0]!.id === 'two');
    expect(w.running().access[0]!.id).toBe('two');
    writeFileSync(join(dir, 'policy.yaml.tmp'), rule('three'));
    renameSync(join(dir, 'policy.yaml.tmp'), file);
    await until(() => w.running().access[0]!.id === 'three');
    expect([w.running().access[0]!.id, w.loads(), w.refused]).toEqual(['three', 2, []]);
  });
});
