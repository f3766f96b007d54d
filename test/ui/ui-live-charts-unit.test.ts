import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import type { WrittenExchange } from '../../src/recorder/writer.js';
import { builtInRedactor } from '../../src/redact/redactor.js';
import { viewerFor } from '../../src/ui/server/access.js';
import type { UiListItem } from '../../src/ui/server/list-item.js';
import { LiveHub } from '../../src/ui/server/live.js';
import { applyWritten, matchesFilters, mergeFetched, NO_FILTERS, PAGE_SIZE, type ListRow } from '../../ui/src/api.js';
import { bucketStarts, bucketTotals, groupColours, cumulativeLines, NONE, OTHER, timeRange, type SeriesPoint } from '../../ui/src/chart-data.js';

/** Just enough of a ServerResponse for the hub: what was written, and 'close'. */
class FakeResponse extends EventEmitter {
  destroyed = false;
  frames: string[] = [];
  writeHead(): this {
    return this;
  }
  write(chunk: string): boolean {
    this.frames.push(chunk);
    return true;
  }
  end(): void {
    this.destroyed = true;
  }
}

function written(id: string, user: string | null): WrittenExchange {
  return { id, sessionId: `s-${id}`, threadId: `t-${id}`, turn: 1, costUsd: 0.5, costSource: 'api_equivalent', user };
}

describe('the live hub and what the archive wrote', () => {
  it('listens to the writer only while someone watches, and sends each viewer the rows they may see', async () => {
    let observer: ((w: readonly WrittenExchange[]) => void) | undefined;
    let watching = 0;
    const hub = new LiveHub({
      prices: () => undefined, redactor: () => builtInRedactor,
      watchWritten: (o) => {
        observer = o;
        watching++;
        return () => watching--;
      },
    });
    expect(watching).toBe(0);
    const admin = new FakeResponse();
    const bob = new FakeResponse();
    await hub.subscribe(admin as unknown as ServerResponse, viewerFor('alice', true, ['alice']), {});
    await hub.subscribe(bob as unknown as ServerResponse, viewerFor('bob', true, ['alice']), {});
    expect(watching).toBe(1);

    observer!([written('a', 'alice'), written('b', 'bob')]);
    const events = (res: FakeResponse) => res.frames.filter((f) => f.startsWith('event: written')).map((f) => JSON.parse(f.split('data: ')[1]!) as { id: string }[]);
    expect(events(admin)).toEqual([[expect.objectContaining({ id: 'a' }), expect.objectContaining({ id: 'b' })]]);
    expect(events(bob)).toEqual([[{ id: 'b', sessionId: 's-b', threadId: 't-b', turn: 1, costUsd: 0.5, apiEquivalent: true }]]);
    observer!([written('c', 'alice')]);
    expect(events(bob)).toHaveLength(1); // nothing of alice's reaches bob

    admin.emit('close');
    expect(watching).toBe(1);
    bob.emit('close');
    expect(watching).toBe(0);
    hub.close();
  });

  it('completes live rows with what was written; other rows are left as they are', () => {
    const row = (id: string) => ({ id, sessionId: null, threadId: null, turn: null, costUsd: null, apiEquivalent: false, pending: true }) as unknown as UiListItem & { pending?: boolean };
    const rows = [row('a'), row('b')];
    expect(applyWritten(rows, [{ id: 'x', sessionId: 's', threadId: 't', turn: 1, costUsd: 1, apiEquivalent: false }])).toBe(rows);
    const next = applyWritten(rows, [{ id: 'b', sessionId: 's', threadId: 't', turn: 3, costUsd: 1, apiEquivalent: true }]);
    expect(next[0]).toBe(rows[0]);
    expect(next[1]).toMatchObject({ id: 'b', sessionId: 's', turn: 3, apiEquivalent: true, pending: false });
  });
});

describe('chart data', () => {
  const point = (at: number, key: string | null, extra: Partial<SeriesPoint> = {}): SeriesPoint => ({
    at, key, requests: 1, errors: 0, promptTokens: 0, cachedTokens: 0, outputTokens: 0, costUsd: 0, ...extra,
  });

  it('gives each of the biggest groups a cumulative line over the buckets and sums the rest into (other)', () => {
    const series = { step: 1000, points: [point(1000, 'ann', { costUsd: 1 }), point(2000, 'bob', { costUsd: 5 }), point(4000, 'cy', { costUsd: 2 }), point(4000, null, { costUsd: 0.5 })] };
    expect(cumulativeLines(series, (p) => p.costUsd, 5)).toEqual({
      names: ['bob', 'cy', 'ann', NONE], series: [[0, 5, 5, 5], [0, 0, 0, 2], [1, 1, 1, 1], [0, 0, 0, 0.5]],
    });
    expect(cumulativeLines(series, (p) => p.costUsd, 2)).toEqual({ names: ['bob', OTHER], series: [[0, 5, 5, 5], [1, 1, 1, 3.5]] });
    expect(cumulativeLines({ step: 0, points: [] }, (p) => p.costUsd, 5)).toEqual({ names: [], series: [] });
  });

  it('a time chart of one x spans its pad either side, not the ~1,000 days uPlot would give it', () => {
    const x = 1_765_029_690;
    expect(timeRange([x], x, x + 86_400_000, 5)).toEqual([x - 5, x + 5]);
    expect(timeRange([x, x], x, x + 86_400_000, 1)).toEqual([x - 1, x + 1]);
    expect(timeRange([x, x + 30], x, x + 30, 5)).toEqual([x, x + 30]);
    expect(timeRange([], 0, 1, 5)).toEqual([0, 1]);
  });

  it('sums requests, errors and the cache hit ratio per bucket, empty buckets included', () => {
    const series = { step: 1000, points: [
      point(10_000, 'a', { promptTokens: 100, cachedTokens: 25 }), point(10_000, 'b', { promptTokens: 100, cachedTokens: 75, errors: 1 }),
      point(12_000, 'a', { errors: 1 }),
    ] };
    expect(bucketStarts(series)).toEqual([10_000, 11_000, 12_000]);
    expect(bucketTotals(series)).toEqual({ xs: [10, 11, 12], requests: [2, 0, 1], errors: [1, 0, 1], cacheHit: [50, null, null] });
    expect(bucketTotals({ step: 0, points: [] }).xs).toEqual([]);
  });
});

describe('chart colours', () => {
  it('a group has one colour in every chart, whatever each ranks first; no two groups share one, past the palette too', () => {
    const palette = ['blue', 'red', 'green'];
    const colours = groupColours([['claude', 'gpt-4o-mini', '(other)'], ['gpt-4o-mini', 'o3', 'gpt-5', '(other)']], palette);
    expect([...colours]).toEqual([['claude', 'blue'], ['gpt-4o-mini', 'red'], ['(other)', 'green'], ['o3', 'hsl(53, 65%, 42%)'], ['gpt-5', 'hsl(190, 65%, 42%)']]);
    expect(new Set(colours.values()).size).toBe(colours.size);
  });
});

describe('the list fetch and the rows pushed meanwhile', () => {
  const row = (id: string): ListRow => ({ id, tool: 'curl', model: 'm' }) as unknown as ListRow;
  it('keeps a row pushed while the fetch was on its way, on top, and nothing else the fetch does not hold', () => {
    const fetched = [row('b'), row('a')];
    const current = [row('c'), row('old-not-refetched'), row('b')];
    expect(mergeFetched(fetched, current, new Set(['c', 'b']), NO_FILTERS).map((r) => r.id)).toEqual(['c', 'b', 'a']);
    // Held by an earlier fetch (the archive has it: this one left it out): not kept.
    expect(mergeFetched(fetched, current, new Set(), NO_FILTERS).map((r) => r.id)).toEqual(['b', 'a']);
    // A pushed row the new filters exclude goes too.
    expect(mergeFetched(fetched, current, new Set(['c']), { ...NO_FILTERS, tool: 'codex' }).map((r) => r.id)).toEqual(['b', 'a']);
  });

  it('keeps an unfetched row within a full page\'s time range only: an older one belongs to an older page', () => {
    const at = (id: string, startedAt: number): ListRow => ({ ...row(id), startedAt }) as ListRow;
    const page = Array.from({ length: PAGE_SIZE }, (_, i) => at(`f${i}`, 10_000 - i));
    const current = [at('new', 20_000), at('old', 5_000)];
    expect(mergeFetched(page, current, new Set(['new', 'old']), NO_FILTERS).map((r) => r.id).slice(0, 2)).toEqual(['new', 'f0']);
    expect(mergeFetched(page.slice(0, 10), current, new Set(['new', 'old']), NO_FILTERS).map((r) => r.id).slice(0, 3)).toEqual(['new', 'old', 'f0']);
  });

  it('a row is kept by a model filter naming any model that answered in it (a session that switched models), as the list API keeps it', () => {
    const switched = { ...row('s'), model: 'gpt-5-mini', models: ['gpt-5-codex', 'gpt-5-mini'] } as ListRow;
    expect(matchesFilters(switched, { ...NO_FILTERS, model: 'gpt-5-codex' })).toBe(true);
    expect(matchesFilters(switched, { ...NO_FILTERS, model: 'gpt-5-mini' })).toBe(true);
    expect(matchesFilters(switched, { ...NO_FILTERS, model: 'gpt-5' })).toBe(false);
    expect(matchesFilters(row('one'), { ...NO_FILTERS, model: 'gpt-5-codex' })).toBe(false);
  });
});
