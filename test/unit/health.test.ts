import { describe, expect, it } from 'vitest';
import { healthOf } from '../../src/proxy/health.js';

describe('healthOf', () => {
  it('is 503 only when new traffic would not be served', () => {
    const at = (draining: boolean, failClosed: boolean, archiveHealthy: boolean) => {
      const h = healthOf({ draining, failClosed, archiveHealthy });
      return [h.httpStatus, h.body.status, h.body.archive];
    };
    expect(at(false, false, true)).toEqual([200, 'ok', 'ok']);
    expect(at(false, false, false)).toEqual([200, 'ok', 'failing']); // fail-open forwards everything
    expect(at(false, true, true)).toEqual([200, 'ok', 'ok']);
    expect(at(false, true, false)).toEqual([503, 'archive_unavailable', 'failing']);
    expect(at(true, false, true)).toEqual([503, 'draining', 'ok']);
    expect(at(true, true, false)).toEqual([503, 'draining', 'failing']);
  });
});
