import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/**
 * Where certs/ and llmtap.db live unless --home says otherwise. A module of its own so that
 * the CLI's entry point reads it without loading the config module and what that imports.
 */
export function defaultHome(env: NodeJS.ProcessEnv = process.env): string {
  return env.LLMTAP_HOME ? resolve(env.LLMTAP_HOME) : join(homedir(), '.llmtap');
}
