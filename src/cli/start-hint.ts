import { gatewayProxyUrl } from '../gateway-client/gateway-url.js';
import { sameProxyFlags } from './options.js';

export interface StartHintFacts {
  home: string;
  /** The address the proxy listens on, and its port. */
  address: string;
  port: number;
  /** Whether the proxy has users (--auth, --auth-file, the config's auth): a gateway. */
  users: boolean;
  /** This machine's name, for a gateway listening on every address. */
  hostname: string;
}

/**
 * What `llmtap start` tells the person who started it to run next. A local proxy: `llmtap
 * env` with the flags that name it again. A gateway: developers point their tools at it
 * from their own machines with `env --gateway http://USER@HOST:PORT` (which fetches its CA
 * behind the login); this machine's --home and a bare `env` (no login: every request
 * answered 407) would be wrong there.
 */
export function startHint(facts: StartHintFacts): string[] {
  if (!facts.users) {
    return ['Point tools at it (in the shell that runs them):', `  eval "$(llmtap env${sameProxyFlags({ home: facts.home, port: facts.port })})"`];
  }
  // Listening on every address: the machine's name is the best guess at what developers reach.
  const host = facts.address === '0.0.0.0' || facts.address === '::' ? facts.hostname : facts.address;
  return [
    "Point tools at it (on each developer's machine, as their proxy user; they compare the CA SHA-256 above, or pass it as --gateway-fingerprint):",
    `  eval "$(llmtap env --gateway ${gatewayProxyUrl({ host, port: facts.port, user: 'USER' }, undefined)})"`,
  ];
}
