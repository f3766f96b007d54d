import { describe, expect, it } from 'vitest';
import { usd } from '../../src/cli/render/format.js';

describe('usd (stats, sessions, show)', () => {
  it('writes a fraction of a hundredth of a cent with two significant digits, never an exponent', () => {
    // An Amazon Nova Micro call of 10 input tokens: $3.5e-7 before.
    expect(usd(3.5e-7)).toBe('$0.00000035');
    expect(usd(2.03e-6, { partial: true })).toBe('$0.0000020+');
    expect(usd(0.00005)).toBe('$0.000050');
    expect(usd(0.0042)).toBe('$0.0042');
    // Under a cent, two significant digits as in the web UI (it was $0.0001).
    expect(usd(0.000129)).toBe('$0.00013');
    expect(usd(0.00104)).toBe('$0.0010');
    expect(usd(12.5, { apiEquivalent: true })).toBe('~$12.50');
    expect(usd(0)).toBe('$0.0000');
  });
});
