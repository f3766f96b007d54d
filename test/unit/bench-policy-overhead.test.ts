import { describe, expect, it } from 'vitest';
import { verdictOf } from '../../bench/policy-overhead.js';

describe('bench: is the policy within noise of plain recording', () => {
  it('within: the policy median is inside plain recording\'s own spread', () => {
    expect(verdictOf([240, 250, 262, 245], [255, 248, 260, 251])).toEqual({
      plain: [240, 250, 262, 245], policy: [255, 248, 260, 251], medianGap: 5.5, plainSpread: 22, withinNoise: true, tooNoisy: false, verdict: 'met',
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

  it('not met on a noisy machine too, when the policy is above plain\'s highest window: noise only widens plain\'s range', () => {
    const v = verdictOf([290, 285, 328, 307, 313], [344, 339, 360, 350, 357]);
    expect([v.tooNoisy, v.verdict]).toEqual([true, 'not met']);
  });

  it('latency in ms is judged the same way: a policy p50 below plain\'s highest window adds nothing measurable', () => {
    const v = verdictOf([1.42, 1.38, 1.45, 1.40, 1.39], [1.41, 1.44, 1.39, 1.43, 1.40]);
    expect([v.withinNoise, v.tooNoisy]).toEqual([true, false]);
    expect(v.medianGap).toBeCloseTo(0.01, 9);
  });
});
