import { DEFAULTS } from '../config.js';

/** Where the proxy listens; shared by `start` (to listen) and `env` (to point tools at it). */
export const listenOptions = {
  host: { type: 'string', default: DEFAULTS.host, describe: 'address to listen on' },
  port: { type: 'number', default: DEFAULTS.port, describe: 'port to listen on' },
} as const;
