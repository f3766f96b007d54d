import type { Logger } from '../log.js';
import type { Redactor } from '../redact/redactor.js';
import type { LoginResult } from './auth.js';

/**
 * Tells the operator about a refused gateway login, so a team sees a developer's stale
 * password or someone guessing (`proxy login refused`, warn). Never the password, nor the
 * header; the name only when such a user exists (an unknown name is often a password typed
 * in the user field). A client without credentials (a browser's first try before the 407
 * or 401 asks for them) and a header refused again within the minute are logged at debug
 * only: the first is routine, the second was logged when first refused.
 */
export function logRefusedLogin(logger: Logger, redactor: Pick<Redactor, 'text'>, result: LoginResult, client: string | undefined, via: 'proxy' | 'page' | 'connection'): void {
  if (!('refused' in result)) return;
  const fields = { reason: result.refused, ...(result.name === undefined ? {} : { user: redactor.text(result.name) }), client, via };
  if (result.refused === 'no_credentials' || result.repeated) logger.debug(fields, 'proxy login refused');
  else logger.warn(fields, 'proxy login refused');
}
