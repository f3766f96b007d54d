import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { CompiledPolicy } from './compile.js';
import { loadPolicyFile } from './load.js';

export interface PolicyWatcherHooks {
  /** A good file: the new policy (swap it in). */
  loaded(policy: CompiledPolicy): void;
  /** A bad file: the one-line reason; the running policy stays. */
  refused(message: string): void;
}

/**
 * Reloads a policy file on demand (SIGHUP) and when it changes on disk. Watches
 * the directory, not the file: editors save by writing a new file and renaming it
 * over the old one, which ends a watch on the file itself. Changes are debounced,
 * so a save that touches the file several times loads it once.
 */
export class PolicyWatcher {
  private watcher?: FSWatcher;
  private timer?: NodeJS.Timeout;

  constructor(private readonly file: string, private readonly hooks: PolicyWatcherHooks, private readonly debounceMs = 250) {}

  start(): this {
    const name = basename(this.file);
    this.watcher = watch(dirname(this.file), (_event, changed) => {
      if (changed !== null && changed.toString() !== name) return;
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.reload(), this.debounceMs);
    });
    this.watcher.on('error', (err) => this.hooks.refused(`${this.file}: cannot watch (${(err as NodeJS.ErrnoException).code ?? err.message})`));
    this.watcher.unref();
    return this;
  }

  /** True when the file loaded and the new policy was handed over. */
  reload(): boolean {
    let policy: CompiledPolicy;
    try {
      policy = loadPolicyFile(this.file);
    } catch (err) {
      this.hooks.refused((err as Error).message);
      return false;
    }
    this.hooks.loaded(policy);
    return true;
  }

  close(): void {
    clearTimeout(this.timer);
    this.watcher?.close();
  }
}
