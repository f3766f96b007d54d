import { describe, expect, it } from 'vitest';
import { bytesText } from '../../src/cli/backup.js';

describe('bytesText', () => {
  it('uses decimal units with one decimal below 100', () => {
    expect([0, 950, 1000, 1_500_000, 123_456_789, 2_000_000_000, 5e15].map(bytesText)).toEqual(['0 B', '950 B', '1.0 kB', '1.5 MB', '123 MB', '2.0 GB', '5000 TB']);
  });
});
