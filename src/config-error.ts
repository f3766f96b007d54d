/** A configuration problem the user must fix; the message names the option (and file line). */
export class ConfigError extends Error {
  override name = 'ConfigError';
}
