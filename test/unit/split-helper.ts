import { isDeepStrictEqual } from 'node:util';

/**
 * Ways a body can arrive from the network, for checking that a reducer's result
 * does not depend on where chunk boundaries fall (mid-line, inside a UTF-8 character…).
 */

/** The body cut into two at every byte offset, the empty pieces at the ends included. */
export function* twoWaySplits(body: Buffer): Generator<{ label: string; pieces: Buffer[] }> {
  for (let offset = 0; offset <= body.length; offset++) {
    yield { label: `split at ${offset}`, pieces: [body.subarray(0, offset), body.subarray(offset)] };
  }
}

/** Deterministic random multi-piece splits (mulberry32), so failures reproduce. */
export function* randomSplits(body: Buffer, count: number, seed = 0x5eed): Generator<{ label: string; pieces: Buffer[] }> {
  let state = seed >>> 0;
  const random = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  for (let run = 0; run < count; run++) {
    // Mix tiny pieces (1–8 bytes, lots of boundaries) with larger ones.
    const maxPiece = run % 2 === 0 ? 8 : 256;
    const cuts: number[] = [];
    const pieces: Buffer[] = [];
    let at = 0;
    while (at < body.length) {
      const size = 1 + Math.floor(random() * maxPiece);
      pieces.push(body.subarray(at, at + size));
      at += size;
      cuts.push(Math.min(at, body.length));
    }
    yield { label: `random run ${run} cuts ${cuts.join(',')}`, pieces };
  }
}

export function byteByByte(body: Buffer): Buffer[] {
  const pieces: Buffer[] = [];
  for (let i = 0; i < body.length; i++) pieces.push(body.subarray(i, i + 1));
  return pieces;
}

/** Labels of the splits whose result differs from `expected` (first few only). */
export function splitMismatches<T>(
  splits: Iterable<{ label: string; pieces: Buffer[] }>,
  run: (pieces: Buffer[]) => T,
  expected: T,
): string[] {
  const failures: string[] = [];
  for (const { label, pieces } of splits) {
    if (!isDeepStrictEqual(run(pieces), expected)) failures.push(label);
    if (failures.length >= 5) break;
  }
  return failures;
}
