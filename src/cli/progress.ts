/**
 * A one-line count on stderr while a command reads a large archive (`policy test`,
 * `cache-report`, `export --out`): only on a terminal (a pipe or a log gets none), redrawn
 * at most every REDRAW_MS, erased once the reading ends so the report starts on a clean line.
 */

/** Where the count is drawn: process.stderr, or a stand-in in tests. */
export interface ProgressStream {
  isTTY?: boolean;
  write(text: string): unknown;
}

const REDRAW_MS = 250;

/**
 * `items` as they are read, with `label: N of TOTAL (P %)` drawn as they pass (`label` names
 * what is counted: `replaying exchanges`). `total` is
 * asked for only when the stream is a terminal (counting costs a query).
 */
export function* counted<T>(items: Iterable<T>, label: string, total: () => number, stream: ProgressStream = process.stderr, clock: () => number = () => performance.now()): Generator<T> {
  if (!stream.isTTY) return yield* items;
  const of = total();
  let n = 0;
  let drawn = false;
  let last = clock();
  try {
    for (const item of items) {
      yield item;
      n++;
      const t = clock();
      if (t - last < REDRAW_MS) continue;
      last = t;
      drawn = true;
      stream.write(`\r${progressLine(label, n, of)}`);
    }
  } finally {
    // Erase the line: the report (or an error) that follows starts at column 0.
    if (drawn) stream.write('\r\u001b[2K');
  }
}

/** `replaying exchanges: 340,000 of 1,000,000 (34 %)`; the total grows with an archive written meanwhile. */
export function progressLine(label: string, n: number, total: number): string {
  const of = Math.max(n, total);
  return `${label}: ${n.toLocaleString('en-US')} of ${of.toLocaleString('en-US')} (${of === 0 ? 100 : Math.floor((n / of) * 100)} %)`;
}

/**
 * A progress line for work that reports as it goes rather than yielding items (`purge`):
 * `draw` redraws at most every REDRAW_MS, `end` erases the line. Nothing off a terminal.
 */
export function progressDrawer(stream: ProgressStream = process.stderr, clock: () => number = () => performance.now()): { draw(label: string, n: number, total: number): void; end(): void } {
  let drawn = false;
  let last = -Infinity;
  return {
    draw(label, n, total) {
      const t = clock();
      if (!stream.isTTY || t - last < REDRAW_MS) return;
      last = t;
      drawn = true;
      stream.write(`\r\u001b[2K${progressLine(label, n, total)}`);
    },
    end() {
      if (drawn) stream.write('\r\u001b[2K');
      drawn = false;
    },
  };
}
