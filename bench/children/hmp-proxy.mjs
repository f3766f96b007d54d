// http-mitm-proxy 1.1.0 as the bench runs it: its documented API only (new Proxy(),
// onError, onRequest, listen({ host, port, sslCaDir, keepAlive })). Plain .mjs so the
// measured process carries no TypeScript loader.
//
// argv: <sslCaDir> <fakePort>. The fake provider's CA comes in through
// NODE_EXTRA_CA_CERTS (set by the bench), so upstream verification stays on.
// onRequest sends every request to 127.0.0.1:<fakePort> while keeping the Host
// header and SNI (servername) of the name the client asked for.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { Proxy } = require('http-mitm-proxy');

const [sslCaDir, fakePort] = process.argv.slice(2);
let errors = 0;

const proxy = new Proxy();
proxy.onError((_ctx, _err, _kind) => {
  errors++;
});
proxy.onRequest((ctx, callback) => {
  const options = ctx.proxyToServerRequestOptions;
  options.servername = options.host;
  options.host = '127.0.0.1';
  options.port = Number(fakePort);
  callback();
});
// keepAlive: without it http-mitm-proxy answers every request with "connection: close"
// and opens a new upstream connection per request; the bench gives it its best case.
proxy.listen({ host: '127.0.0.1', port: 0, sslCaDir, keepAlive: true }, (err) => {
  if (err) {
    process.stderr.write(`http-mitm-proxy failed to start: ${err.message}\n`);
    process.exit(1);
  }
  process.send({ ready: true, port: proxy.httpPort });
});
process.on('message', (m) => {
  if (m && m.cmd === 'stats') process.send({ stats: { errors } });
});
process.on('disconnect', () => process.exit(0));
