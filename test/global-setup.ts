import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Every temporary file the suite makes — proxy homes, archives, CA files, browser profiles,
 * in vitest's workers and in the CLIs and browsers they start — goes under one directory
 * for the run (TMPDIR, which os.tmpdir() and the children read), removed when the run
 * ends. Tests make their directories with mkdtemp and leave them: a run used to leave
 * several hundred in /tmp.
 */
export default function setup(): () => void {
  const root = mkdtempSync(join(tmpdir(), 'llmtap-test-run-'));
  // Open to every user like /tmp itself (sticky): a test runs the CLI as `nobody` in a directory under it.
  chmodSync(root, 0o1777);
  const previous = process.env.TMPDIR;
  process.env.TMPDIR = root;
  return () => {
    if (previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previous;
    rmSync(root, { recursive: true, force: true });
  };
}
