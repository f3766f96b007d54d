import { describe, expect, it } from 'vitest';
import { renderTable } from '../../src/cli/render/table.js';

const ID = '01a24d0f-a354-7000-89f3-0e7fce922f29';

describe('tables on a narrow terminal', () => {
  it('cut the flexible columns, widest first, never below their least width, and keep the others whole', () => {
    const text = renderTable(
      [{ header: 'SESSION' }, { header: 'TOOL', flexible: true }, { header: 'MODELS', flexible: true }, { header: 'COST', align: 'right' }],
      [[ID, 'anthropic-sdk-python', 'claude-sonnet-4-5,claude-haiku-4-5', '$0.0123']],
      { width: 80 },
    );
    const [header, row] = text.trimEnd().split('\n');
    expect(row).toContain(ID);
    expect(row!.length).toBeLessThanOrEqual(80);
    // The widest flexible column gives way first, only as far as needed.
    expect(row).toMatch(/ {2}anthropic-sdk-python {2}claude-son… {2}\$0\.0123$/);
    expect(header!.indexOf('TOOL')).toBe(ID.length + 2);
  });

  it('a row that cannot fit once every flexible column is at its least wraps rather than cutting further', () => {
    const text = renderTable(
      [{ header: 'SESSION' }, { header: 'TOOL', flexible: true }, { header: 'TEXT', flexible: true, min: 40 }],
      [[ID, 'claude-code', 'Weather in Paris? The retry budget is high, and the forecast says rain.']],
      { width: 60 },
    );
    const row = text.trimEnd().split('\n')[1]!;
    expect(row).toContain(ID);
    expect(row).toContain('Weather in Paris? The retry budget is h…');
    expect(row).toContain('claude-…');
  });

  it('measures text by the columns a terminal gives it: wide CJK and emoji take two, so the next column stays aligned and a cut row fits', () => {
    const columns = [{ header: 'MODEL', flexible: true }, { header: 'REQS', align: 'right' as const }];
    const text = renderTable(columns, [['模型🚀', '1'], ['gpt-4o-mini', '22'], ['e\u0301t\u00e9 👨‍👩‍👧', '3']]);
    const rows = text.trimEnd().split('\n');
    // Every line ends at the same terminal column: 'e' + combining accent is one, the family emoji two.
    expect(rows.map((r) => r.endsWith('REQS') || /\d$/.test(r))).toEqual([true, true, true, true]);
    expect(rows[1]).toBe(`模型🚀${' '.repeat(10)}1`);
    expect(rows[3]).toBe(`e\u0301t\u00e9 👨‍👩‍👧${' '.repeat(10)}3`);
    const cut = renderTable(columns, [['日本語のモデルの名前はとても長い', '1']], { width: 20 }).trimEnd().split('\n')[1]!;
    // 20 columns: the model cut to 14 (six wide characters and the …: 13, padded to 14), two spaces, REQS's 4.
    expect(cut).toBe(`日本語のモデ…${' '.repeat(6)}1`);
  });
});

