import { statSync } from 'node:fs';
import { SqliteArchiveReader } from './sqlite-reader.js';

/** Which file a path names now (device and inode): a file deleted and re-created at the same path is another file. */
function identity(file: string): string | undefined {
  try {
    const s = statSync(file);
    return `${s.dev}:${s.ino}`;
  } catch {
    return undefined;
  }
}

/**
 * A reader of the archive at a path, for a reader that stays open for long (the web UI,
 * the status page's last exchanges, `tail`). The recorder re-creates an archive that was
 * deleted under it; a connection opened before keeps reading the deleted file (on Linux
 * it lives on while open), so its reader would show the old exchanges for good. This one
 * checks the path's file (a stat) on each use: reopened when it was replaced, closed
 * while there is none.
 */
export class FollowedReader {
  private reader: SqliteArchiveReader | undefined;
  private openedAs: string | undefined;

  constructor(private readonly file: string, private readonly options: { readonly?: boolean } = {}) {}

  /** The reader of the file at the path now; undefined while there is none. */
  current(): SqliteArchiveReader | undefined {
    const now = identity(this.file);
    if (now !== this.openedAs) {
      this.close();
      if (now === undefined) return undefined;
      this.reader = new SqliteArchiveReader(this.file, this.options);
      this.openedAs = now;
    }
    return this.reader;
  }

  close(): void {
    this.reader?.close();
    this.reader = undefined;
    this.openedAs = undefined;
  }
}
