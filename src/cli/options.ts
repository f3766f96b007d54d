import { DEFAULTS } from '../config.js';

/** Where the proxy listens; shared by the commands that point tools at it or probe it (env, run, pac, doctor). */
export const listenOptions = {
  host: { type: 'string', default: DEFAULTS.host, describe: 'address the proxy listens on' },
  port: { type: 'number', default: DEFAULTS.port, describe: 'port the proxy listens on' },
} as const;
