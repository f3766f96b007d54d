// The tunnel-throughput baseline: the least a Node process can do to relay bytes,
// a listening socket piped both ways to the target (no CONNECT parsing, no TLS).
// argv: <targetPort>. Reports {ready, port} over IPC.
import { connect, createServer } from 'node:net';

const target = Number(process.argv[2]);
const server = createServer((client) => {
  const upstream = connect({ host: '127.0.0.1', port: target, noDelay: true });
  client.setNoDelay(true);
  client.on('error', () => upstream.destroy());
  upstream.on('error', () => client.destroy());
  client.pipe(upstream);
  upstream.pipe(client);
});
server.listen(0, '127.0.0.1', () => process.send({ ready: true, port: server.address().port }));
process.on('disconnect', () => process.exit(0));
