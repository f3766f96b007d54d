import type { ExchangeRow } from '../recorder/db.js';

/**
 * Whether an archived exchange went over TLS. Rows keep it since schema 10 (`tls`);
 * older rows (null) are guessed from the port as before: intercepted TLS comes by
 * CONNECT, nearly always to 443, and plain-HTTP proxying goes to 80 or to a local
 * server (Ollama on 11434, vLLM, LM Studio), so 443 means TLS and any other port not.
 */
export function rowUsesTls(row: Pick<ExchangeRow, 'port'> & { tls?: ExchangeRow['tls'] | undefined }): boolean {
  return row.tls === null || row.tls === undefined ? row.port === 443 : row.tls === 1;
}

/**
 * `https://host[:port]/path` or `http://…` (`wss://`, `ws://` for a WebSocket session, as
 * browsers name them), the port left out when it is the scheme's default; an IPv6 host in brackets.
 */
export function exchangeUrl(row: Pick<ExchangeRow, 'host' | 'port' | 'path'> & { tls?: ExchangeRow['tls'] | undefined }, websocket = false): string {
  const tls = rowUsesTls(row);
  const host = row.host.includes(':') ? `[${row.host}]` : row.host;
  const port = row.port === (tls ? 443 : 80) ? '' : `:${row.port}`;
  const path = row.path.startsWith('/') ? row.path : `/${row.path}`;
  return `${websocket ? (tls ? 'wss' : 'ws') : tls ? 'https' : 'http'}://${host}${port}${path}`;
}
