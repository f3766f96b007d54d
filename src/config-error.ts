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

/** Runs a file's loader; its ConfigError becomes a FileError with the same message. */
export function fromFile<T>(load: () => T): T {
  try {
    return load();
  } catch (err) {
    if (err instanceof ConfigError && !(err instanceof FileError)) throw new FileError(err.message);
    throw err;
  }
}

/** The exit code a command ends with on a ConfigError: 1 when a file does not load, else 2 (a bad argument). */
export function configExitCode(err: ConfigError): 1 | 2 {
  return err instanceof FileError ? 1 : 2;
}
