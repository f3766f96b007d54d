import * as net from 'node:net';
import * as tls from 'node:tls';
import { beforeAll, describe, expect, it } from 'vitest';
import { MAX_HELLO_BYTES, peekClientHello, type HelloPeek } from '../../src/tls/client-hello.js';

/** Connects a real TLS client to a plain TCP server and returns the first TLS record it sends. */
async function captureClientHello(options: tls.ConnectionOptions): Promise<Buffer> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  try {
    return await new Promise<Buffer>((resolve, reject) => {
      server.once('connection', (socket) => {
        let buf = Buffer.alloc(0);
        socket.on('data', (chunk: Buffer) => {
          buf = Buffer.concat([buf, chunk]);
          if (buf.length >= 5 && buf.length >= 5 + buf.readUInt16BE(3)) {
            resolve(buf.subarray(0, 5 + buf.readUInt16BE(3)));
            socket.destroy();
          }
        });
        socket.on('error', reject);
      });
      const client = tls.connect({ port, host: '127.0.0.1', ...options });
      // The server hangs up mid-handshake; that error is expected.
      client.on('error', () => undefined);
    });
  } finally {
    server.close();
  }
}

/** Splits one handshake record into several records carrying the same handshake bytes. */
function reframe(record: Buffer, fragmentSize: (index: number) => number): Buffer {
  const payload = record.subarray(5);
  const records: Buffer[] = [];
  for (let offset = 0, index = 0; offset < payload.length; index++) {
    const size = Math.min(fragmentSize(index), payload.length - offset);
    const header = Buffer.from([22, 0x03, 0x03, 0, 0]);
    header.writeUInt16BE(size, 3);
    records.push(header, payload.subarray(offset, offset + size));
    offset += size;
  }
  return Buffer.concat(records);
}

/** Wraps a handshake body as a single-record ClientHello. */
function frame(body: Buffer, handshakeType = 1): Buffer {
  const handshake = Buffer.concat([Buffer.from([handshakeType, 0, 0, 0]), body]);
  handshake.writeUIntBE(body.length, 1, 3);
  const header = Buffer.from([22, 0x03, 0x01, 0, 0]);
  header.writeUInt16BE(handshake.length, 3);
  return Buffer.concat([header, handshake]);
}

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}

function extension(type: number, data: Buffer): Buffer {
  return Buffer.concat([u16(type), u16(data.length), data]);
}

function sniExtension(...names: { type?: number; name: string }[]): Buffer {
  const list = Buffer.concat(
    names.map(({ type = 0, name }) => Buffer.concat([Buffer.from([type]), u16(name.length), Buffer.from(name, 'latin1')])),
  );
  return extension(0, Buffer.concat([u16(list.length), list]));
}

function alpnExtension(...protocols: string[]): Buffer {
  const list = Buffer.concat(protocols.map((p) => Buffer.concat([Buffer.from([p.length]), Buffer.from(p)])));
  return extension(16, Buffer.concat([u16(list.length), list]));
}

/** A minimal hand-built ClientHello body; extensions undefined means the block is absent. */
function helloBody(extensions?: Buffer[]): Buffer {
  const fixed = Buffer.concat([
    Buffer.from([0x03, 0x03]),
    Buffer.alloc(32, 7), // random
    Buffer.from([0]), // session id
    u16(2),
    Buffer.from([0x13, 0x01]), // TLS_AES_128_GCM_SHA256
    Buffer.from([1, 0]), // compression: null
  ]);
  if (!extensions) return fixed;
  const all = Buffer.concat(extensions);
  return Buffer.concat([fixed, u16(all.length), all]);
}

/** Deterministic PRNG so a fuzz failure reproduces. */
function xorshift(seed: number): () => number {
  let x = seed;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x100000000;
  };
}

function safePeek(buf: Buffer): HelloPeek {
  try {
    return peekClientHello(buf);
  } catch (err) {
    throw new Error(`peekClientHello threw on ${buf.toString('hex')}: ${String(err)}`);
  }
}

let withSni: Buffer;
let withoutSni: Buffer;
let explicitlyNoSni: Buffer;

beforeAll(async () => {
  [withSni, withoutSni, explicitlyNoSni] = await Promise.all([
    captureClientHello({ servername: 'api.anthropic.com', ALPNProtocols: ['h2', 'http/1.1'] }),
    captureClientHello({}),
    captureClientHello({ servername: '' }),
  ]);
});

describe('peekClientHello on real ClientHellos', () => {
  it('extracts SNI and ALPN', () => {
    expect(peekClientHello(withSni)).toEqual({ kind: 'hello', sni: 'api.anthropic.com', alpn: ['h2', 'http/1.1'] });
  });

  it('reports no SNI when the client sends none', () => {
    expect(peekClientHello(withoutSni)).toEqual({ kind: 'hello', alpn: [] });
    expect(peekClientHello(explicitlyNoSni)).toEqual({ kind: 'hello', alpn: [] });
  });

  it('says incomplete for every strict prefix', () => {
    for (let i = 0; i < withSni.length; i++) {
      expect(safePeek(withSni.subarray(0, i)).kind, `prefix of ${i} bytes`).toBe('incomplete');
    }
  });

  it('ignores bytes after the ClientHello', () => {
    const trailing = Buffer.concat([withSni, Buffer.from([20, 3, 3, 0, 1, 1])]);
    expect(peekClientHello(trailing)).toMatchObject({ kind: 'hello', sni: 'api.anthropic.com' });
  });

  it('parses a ClientHello split over two records, and every prefix of it is incomplete', () => {
    const split = reframe(withSni, (index) => (index === 0 ? 100 : Infinity));
    expect(split.length).toBe(withSni.length + 5);
    expect(peekClientHello(split)).toEqual({ kind: 'hello', sni: 'api.anthropic.com', alpn: ['h2', 'http/1.1'] });
    for (let i = 0; i < split.length; i++) {
      expect(safePeek(split.subarray(0, i)).kind, `prefix of ${i} bytes`).toBe('incomplete');
    }
  });

  it('parses a ClientHello split into tiny records, including the handshake header', () => {
    const tiny = reframe(withSni, () => 3);
    expect(peekClientHello(tiny)).toEqual({ kind: 'hello', sni: 'api.anthropic.com', alpn: ['h2', 'http/1.1'] });
  });
});

describe('peekClientHello on hand-built ClientHellos', () => {
  it('accepts a hello without an extensions block', () => {
    expect(peekClientHello(frame(helloBody()))).toEqual({ kind: 'hello', alpn: [] });
  });

  it('takes the first host_name entry and skips other name types', () => {
    const hello = frame(helloBody([sniExtension({ type: 9, name: 'other' }, { name: 'first.example' }, { name: 'second.example' })]));
    expect(peekClientHello(hello)).toEqual({ kind: 'hello', sni: 'first.example', alpn: [] });
  });

  it('skips unknown extensions', () => {
    const hello = frame(helloBody([extension(0xfe0d, Buffer.alloc(40, 1)), alpnExtension('h2'), sniExtension({ name: 'x.test' })]));
    expect(peekClientHello(hello)).toEqual({ kind: 'hello', sni: 'x.test', alpn: ['h2'] });
  });

  it('rejects a malformed SNI or ALPN extension', () => {
    const badSni = extension(0, Buffer.from([0, 10, 0, 0, 3, 0x61])); // list claims 10 bytes, has 4
    const badAlpn = extension(16, Buffer.from([0, 3, 5, 0x68, 0x32])); // name claims 5 bytes, has 2
    expect(peekClientHello(frame(helloBody([badSni])))).toEqual({ kind: 'not-tls' });
    expect(peekClientHello(frame(helloBody([badAlpn])))).toEqual({ kind: 'not-tls' });
  });

  it('rejects an extensions block whose length disagrees with the body', () => {
    const body = helloBody([alpnExtension('h2')]);
    const lengthAt = body.length - alpnExtension('h2').length - 2;
    body.writeUInt16BE(body.readUInt16BE(lengthAt) + 1, lengthAt);
    expect(peekClientHello(frame(body))).toEqual({ kind: 'not-tls' });
  });
});

describe('peekClientHello on other input', () => {
  it('rejects plain HTTP at once', () => {
    expect(peekClientHello(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'))).toEqual({ kind: 'not-tls' });
    expect(peekClientHello(Buffer.from('G'))).toEqual({ kind: 'not-tls' });
    expect(peekClientHello(Buffer.from('PRI * HTTP/2.0\r\n'))).toEqual({ kind: 'not-tls' });
  });

  it('rejects other TLS content and handshake types', () => {
    expect(peekClientHello(Buffer.from([21, 3, 3, 0, 2, 2, 40]))).toEqual({ kind: 'not-tls' }); // alert
    expect(peekClientHello(Buffer.from([22, 2, 0]))).toEqual({ kind: 'not-tls' }); // SSL 2 version
    expect(peekClientHello(frame(helloBody(), 2))).toEqual({ kind: 'not-tls' }); // ServerHello
    expect(peekClientHello(Buffer.from([22, 3, 1, 0, 0]))).toEqual({ kind: 'not-tls' }); // empty record
    expect(peekClientHello(Buffer.from([22, 3, 1, 0x50, 0]))).toEqual({ kind: 'not-tls' }); // oversized record
  });

  it('rejects a second record that is not a handshake record', () => {
    const split = reframe(withSni, (index) => (index === 0 ? 100 : Infinity));
    split[105] = 23; // second record header: application_data
    expect(peekClientHello(split)).toEqual({ kind: 'not-tls' });
  });

  it('rejects a handshake length larger than MAX_HELLO_BYTES', () => {
    const hello = Buffer.from(withSni);
    hello.writeUIntBE(MAX_HELLO_BYTES + 1, 6, 3);
    expect(peekClientHello(hello)).toEqual({ kind: 'not-tls' });
  });

  it('handles corrupt length fields without throwing', () => {
    const longer = Buffer.from(withSni);
    longer.writeUIntBE(longer.readUIntBE(6, 3) + 50, 6, 3);
    expect(peekClientHello(longer)).toEqual({ kind: 'incomplete' });

    const shorter = Buffer.from(withSni);
    shorter.writeUIntBE(shorter.readUIntBE(6, 3) - 10, 6, 3);
    expect(peekClientHello(shorter)).toEqual({ kind: 'not-tls' });
  });

  it('never throws on random or mutated input', () => {
    const random = xorshift(0x5eed);
    const byte = () => Math.floor(random() * 256);
    const kinds = new Set<string>();
    for (let i = 0; i < 3000; i++) {
      const buf = Buffer.from(Array.from({ length: Math.floor(random() * 80) }, byte));
      // Bias toward the interesting path: make most of them look like a handshake record.
      if (buf.length > 1 && i % 2 === 0) {
        buf[0] = 22;
        buf[1] = 3;
      }
      kinds.add(safePeek(buf).kind);
    }
    for (let i = 0; i < 3000; i++) {
      const buf = Buffer.from(withSni);
      for (let flips = 1 + Math.floor(random() * 4); flips > 0; flips--) {
        buf[Math.floor(random() * buf.length)] = byte();
      }
      kinds.add(safePeek(buf.subarray(0, Math.floor(random() * (buf.length + 1)))).kind);
    }
    expect([...kinds].every((k) => ['hello', 'incomplete', 'not-tls'].includes(k))).toBe(true);
  });
});
