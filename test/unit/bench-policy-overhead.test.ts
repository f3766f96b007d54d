import { describe, expect, it } from 'vitest';
import { mannWhitneyHigherP, verdictOf } from '../../bench/policy-overhead.js';

describe('bench: is the policy within noise of plain recording', () => {
  it('within: the policy median is inside plain recording\'s own spread', () => {
    expect(verdictOf([240, 250, 262, 245], [255, 248, 260, 251])).toEqual({
      plain: [240, 250, 262, 245], policy: [255, 248, 260, 251], medianGap: 5.5, plainSpread: 22, withinNoise: true, tooNoisy: false, higherP: expect.any(Number), verdict: 'met',
    });
  });

  it('no verdict when plain recording alone varied by more than 10 % (a noisy machine makes anything look within noise)', () => {
    const v = verdictOf([710, 509, 579, 561], [656, 657, 679, 654]);
    expect([v.withinNoise, v.tooNoisy, v.verdict]).toEqual([true, true, 'too noisy']);
  });

  it('not within: a policy median above plain\'s highest window, however noisy the policy itself', () => {
    const v = verdictOf([240, 244, 239, 242], [290, 250, 300, 281]);
    expect([v.medianGap, v.plainSpread, v.withinNoise, v.tooNoisy, v.verdict]).toEqual([44.5, 5, false, false, 'not met']);
  });

  it('not met on a noisy machine too, when every policy window is above every plain one (beyond chance: p = 1/252)', () => {
    const v = verdictOf([290, 285, 328, 307, 313], [344, 339, 360, 350, 357]);
    expect([v.tooNoisy, v.verdict]).toEqual([true, 'not met']);
    expect(v.higherP).toBeCloseTo(1 / 252, 12);
  });

  it('no verdict for a policy median above plain\'s highest when it is not beyond chance (noisy windows, a drift)', () => {
    const v = verdictOf([0.97, 0.91, 0.82, 1.04, 1.07], [0.94, 0.98, 1.11, 1.20, 1.10]);
    expect([v.withinNoise, v.verdict]).toEqual([false, 'too noisy']);
    expect(v.higherP).toBeGreaterThan(0.05);
  });

  it('the exact one-sided Mann-Whitney p: counts orderings of the ranks, ties count half', () => {
    expect(mannWhitneyHigherP([6, 7, 8, 9, 10], [1, 2, 3, 4, 5])).toBe(1);
    // n = m = 3: 20 orderings, 7 of them with U ≥ 6.
    expect(mannWhitneyHigherP([1, 2, 3], [1.5, 2.5, 3.5])).toBeCloseTo(7 / 20, 12);
    expect(mannWhitneyHigherP([1, 2], [1, 2])).toBeGreaterThan(0.5);
  });

  it('latency in ms is judged the same way: a policy p50 below plain\'s highest window adds nothing measurable', () => {
    const v = verdictOf([1.42, 1.38, 1.45, 1.40, 1.39], [1.41, 1.44, 1.39, 1.43, 1.40]);
    expect([v.withinNoise, v.tooNoisy]).toEqual([true, false]);
    expect(v.medianGap).toBeCloseTo(0.01, 9);
  });
});
