import { createHash } from 'node:crypto';
import { readFileSync, realpathSync, watch, type FSWatcher } from 'node:fs';
import { dirname } from 'node:path';
import type { CompiledPolicy } from './compile.js';
import { loadPolicyText } from './load.js';

export interface PolicyWatcherHooks {
  /** A good file: the new policy (swap it in). */
  loaded(policy: CompiledPolicy): void;
  /** A bad file: the one-line reason; the running policy stays. */
  refused(message: string): void;
}

/** Each file the last load read (the policy, then its credentials files), with a digest of what it held then. */
type Reads = Map<string, string>;

/** A digest, not the text: a credentials file's key is not kept around for the comparison. */
function fingerprint(file: string): string {
  return readFingerprinted(file).fingerprint;
}

/** The file's bytes and their fingerprint; unreadable is a state too (the file coming back is a change). */
function readFingerprinted(file: string): { bytes?: Buffer; error?: unknown; fingerprint: string } {
  try {
    const bytes = readFileSync(file);
    return { bytes, fingerprint: createHash('sha256').update(bytes).digest('hex') };
  } catch (error) {
    return { error, fingerprint: `unreadable:${(error as NodeJS.ErrnoException).code ?? 'error'}` };
  }
}

/**
 * Reloads a policy file on demand (SIGHUP) and when what it reads changes on disk.
 *
 * Watches directories, not files, and compares content rather than trusting event
 * names: editors save by renaming a new file over the old one (which ends a watch on
 * the file itself), and a Kubernetes ConfigMap or Secret volume updates by renaming a
 * `..data` symlink the policy path resolves through, so no event names the policy
 * file. Any event in a watched directory therefore leads, debounced, to reading the
 * files again; only a difference from what was last loaded reloads, so a busy
 * neighbour (a log, an editor's swap file) costs a read and a hash, never a reload.
 * The credentials files a policy reads are watched the same way: a rotated key is
 * injected after the next reload, as after a policy edit.
 */
export class PolicyWatcher {
  private readonly watchers = new Map<string, FSWatcher>();
  private reads: Reads = new Map();
  private started = false;
  private timer?: NodeJS.Timeout;
  private due?: number;

  constructor(private readonly file: string, private readonly hooks: PolicyWatcherHooks, private readonly debounceMs = 250) {}

  start(): this {
    this.started = true;
    // What the caller loaded just before is what this reads now: the baseline a change is measured against.
    this.load();
    this.rewatch();
    return this;
  }

  /** True when the file loaded and the new policy was handed over. */
  reload(): boolean {
    const result = this.load();
    this.rewatch();
    if (typeof result === 'string') {
      this.hooks.refused(result);
      return false;
    }
    this.hooks.loaded(result);
    return true;
  }

  close(): void {
    this.started = false;
    clearTimeout(this.timer);
    for (const w of this.watchers.values()) w.close();
    this.watchers.clear();
  }

  /** The compiled policy, or why it was refused; either way `reads` is what this attempt read. */
  private load(): CompiledPolicy | string {
    const reads: Reads = new Map();
    this.reads = reads;
    const read = (file: string): string => {
      // The fingerprint of the very bytes loaded: a later change to the file is a difference from them.
      const got = readFingerprinted(file);
      reads.set(file, got.fingerprint);
      if (!got.bytes) throw got.error;
      return got.bytes.toString('utf8');
    };
    let text: string;
    try {
      text = read(this.file);
    } catch (err) {
      return `${this.file}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`;
    }
    try {
      return loadPolicyText(text, this.file, { readFile: read });
    } catch (err) {
      return (err as Error).message;
    }
  }

  private schedule(): void {
    // Debounced, so a save that touches the file several times loads it once, but put off by at most a
    // few periods, so a directory that never goes quiet cannot hold a change back for ever.
    this.due ??= Date.now() + 4 * this.debounceMs;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.due = undefined;
      if ([...this.reads].some(([file, was]) => fingerprint(file) !== was)) this.reload();
      else this.rewatch();
    }, Math.max(0, Math.min(this.debounceMs, this.due - Date.now())));
  }

  /**
   * Watches the directory of each file read and of what it resolves to now (a symlink
   * to a file edited in place elsewhere): redone after each look, as a ConfigMap
   * update moves the resolved directory and deletes the old one.
   */
  private rewatch(): void {
    if (!this.started) return;
    const own = dirname(this.file);
    const dirs = new Set<string>([own]);
    for (const file of this.reads.keys()) {
      dirs.add(dirname(file));
      try {
        dirs.add(dirname(realpathSync(file)));
      } catch {
        // Not there now: its named directory is watched, and it is looked for again after the next event.
      }
    }
    for (const [dir, w] of this.watchers) if (!dirs.has(dir)) { w.close(); this.watchers.delete(dir); }
    for (const dir of dirs) {
      if (this.watchers.has(dir)) continue;
      // Only the policy's own directory is worth a message: without it no change is seen; the
      // others are tried again at the next look, and SIGHUP still reads everything.
      const failed = (err: Error): void => {
        this.watchers.get(dir)?.close();
        this.watchers.delete(dir);
        if (dir === own) this.hooks.refused(`${this.file}: cannot watch (${(err as NodeJS.ErrnoException).code ?? err.message})`);
      };
      try {
        const w = watch(dir, () => this.schedule());
        w.on('error', failed);
        w.unref();
        this.watchers.set(dir, w);
      } catch (err) {
        failed(err as Error);
      }
    }
  }
}
