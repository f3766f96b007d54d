/** A configuration problem the user must fix; the message names the option (and file line). */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * A file the command was given does not load: missing, unreadable or invalid (the
 * message names the file, and the line and key when it has them). The command line
 * itself was well formed, so a command ends on it with exit code 1, as `check-config`
 * does for the same file; a bad flag value is a ConfigError and exit code 2 (README "Exit codes").
 */
export class FileError extends ConfigError {
  override name = 'FileError';
}

/**
 * A users file (--auth-file, the config's authFile) that does not load: `file` is the users
 * file, the message its `file:line: problem` (never a line's hash). Kept as the `cause` of
 * the config file's error that read it, so that a reload can say which file to fix.
 */
export class UsersFileError extends FileError {
  override name = 'UsersFileError';

  constructor(readonly file: string, message: string) {
    super(message);
  }
}

/** The users file problem behind a load error (the error itself or one of its causes), if there is one. */
export function usersFileProblem(err: unknown): UsersFileError | undefined {
  for (let at: unknown = err, depth = 0; at instanceof Error && depth < 8; at = at.cause, depth++) {
    if (at instanceof UsersFileError) return at;
  }
  return undefined;
}

/** Runs a file's loader; its ConfigError becomes a FileError with the same message (the error kept as its cause). */
export function fromFile<T>(load: () => T): T {
  try {
    return load();
  } catch (err) {
    if (err instanceof ConfigError && !(err instanceof FileError)) throw new FileError(err.message, { cause: err });
    throw err;
  }
}

/** The exit code a command ends with on a ConfigError: 1 when a file does not load, else 2 (a bad argument). */
export function configExitCode(err: ConfigError): 1 | 2 {
  return err instanceof FileError ? 1 : 2;
}
