import { crc32, deflateSync, inflateSync } from 'node:zlib';

/**
 * A browser screenshot (8-bit RGB or RGBA PNG, not interlaced) as an 8-bit palette PNG of
 * its 256 most used colours, every other colour drawn as the nearest of them: a UI's flat
 * colours stay exact, text edges move by a shade, and the file is a third the size.
 */
export function toPalettePng(png: Buffer): Buffer {
  const { width, height, channels, pixels } = decode(png);
  const counts = new Map<number, number>();
  for (let i = 0; i < pixels.length; i += channels) {
    const rgb = (pixels[i]! << 16) | (pixels[i + 1]! << 8) | pixels[i + 2]!;
    counts.set(rgb, (counts.get(rgb) ?? 0) + 1);
  }
  // The most used colours first, but one a shade off a colour already in is left for later: a
  // few words in green (a status) keep their colour rather than lose their slot to grey text edges.
  const byUse = [...counts.entries()].sort((a, b) => b[1] - a[1]).map(([rgb]) => rgb);
  const palette: number[] = [];
  for (const rgb of byUse) if (palette.length < 256 && palette.every((p) => distance(rgb, p) > DISTINCT)) palette.push(rgb);
  for (const rgb of byUse) if (palette.length < 256 && !palette.includes(rgb)) palette.push(rgb);
  const index = new Map<number, number>();
  const nearest = (rgb: number): number => {
    let best = index.get(rgb);
    if (best !== undefined) return best;
    let bestDistance = Infinity;
    for (const [i, p] of palette.entries()) {
      const d = distance(rgb, p);
      if (d < bestDistance) [best, bestDistance] = [i, d];
    }
    index.set(rgb, best!);
    return best!;
  };
  const rows = Buffer.alloc((width + 1) * height); // filter byte 0 (none) on every row: indices compress best unfiltered
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * channels;
      rows[y * (width + 1) + 1 + x] = nearest((pixels[i]! << 16) | (pixels[i + 1]! << 8) | pixels[i + 2]!);
    }
  }
  const plte = Buffer.alloc(palette.length * 3);
  for (const [i, p] of palette.entries()) plte.writeUIntBE(p, i * 3, 3);
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 3, 0, 0, 0], 8); // 8-bit, palette, deflate, adaptive filters, not interlaced
  return Buffer.concat([PNG_SIGNATURE, chunk('IHDR', ihdr), chunk('PLTE', plte), chunk('IDAT', deflateSync(rows, { level: 9 })), chunk('IEND', Buffer.alloc(0))]);
}

/** Squared distance under which two colours are shades of one (about 10 per channel). */
const DISTINCT = 300;

function distance(a: number, b: number): number {
  return ((a >> 16) - (b >> 16)) ** 2 + (((a >> 8) & 255) - ((b >> 8) & 255)) ** 2 + ((a & 255) - (b & 255)) ** 2;
}

const PNG_SIGNATURE = Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]);

function decode(png: Buffer): { width: number; height: number; channels: number; pixels: Buffer } {
  if (!png.subarray(0, 8).equals(PNG_SIGNATURE)) throw new Error('not a PNG');
  let width = 0, height = 0, channels = 0;
  const idat: Buffer[] = [];
  for (let at = 8; at < png.length;) {
    const length = png.readUInt32BE(at);
    const type = png.toString('latin1', at + 4, at + 8);
    const data = png.subarray(at + 8, at + 8 + length);
    if (type === 'IHDR') {
      [width, height] = [data.readUInt32BE(0), data.readUInt32BE(4)];
      const [depth, colour, , , interlace] = data.subarray(8, 13);
      if (depth !== 8 || (colour !== 2 && colour !== 6) || interlace !== 0) throw new Error('expected an 8-bit RGB(A) PNG, not interlaced');
      channels = colour === 2 ? 3 : 4;
    } else if (type === 'IDAT') idat.push(data);
    at += 12 + length;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const pixels = Buffer.alloc(stride * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const out = y * stride;
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? pixels[out + x - channels]! : 0;
      const b = y > 0 ? pixels[out - stride + x]! : 0;
      const c = x >= channels && y > 0 ? pixels[out - stride + x - channels]! : 0;
      pixels[out + x] = (line[x]! + (filter === 1 ? a : filter === 2 ? b : filter === 3 ? (a + b) >> 1 : filter === 4 ? paeth(a, b, c) : 0)) & 255;
    }
  }
  return { width, height, channels, pixels };
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const [pa, pb, pc] = [Math.abs(p - a), Math.abs(p - b), Math.abs(p - c)];
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}
