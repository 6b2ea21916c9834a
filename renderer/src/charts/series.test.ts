import { describe, expect, it } from 'vitest';
import { chartGeometry, linePath, mergeSeconds, niceCeiling } from './series.ts';

describe('chart data', () => {
  it('merges the pieces of a second the series holds twice', () => {
    const merged = mergeSeconds([
      { t: 10, calls: 30, errors: 0, p50: 10, p99: 20 },
      { t: 11, calls: 1, errors: 1, p50: 5, p99: 5 },
      { t: 10, calls: 10, errors: 2, p50: 30, p99: 90 },
    ]);
    expect(merged).toEqual([
      { t: 10, calls: 40, errors: 2, p50: 15, p99: 90 },
      { t: 11, calls: 1, errors: 1, p50: 5, p99: 5 },
    ]);
  });

  it('places the window\'s seconds left to right, the largest value at the top', () => {
    const g = chartGeometry([{ t: 100, calls: 1, errors: 4, p50: 1, p99: 1 }, { t: 50, calls: 1, errors: 9, p50: 1, p99: 1 }], (p) => p.errors, {
      now: 100, windowS: 10, width: 100, height: 50,
    });
    expect(g.max).toBe(5);
    expect(g.points).toEqual([{ t: 100, value: 4, x: 100, y: 10 }]);
  });

  it('reads axis tops and breaks lines over silent seconds', () => {
    expect([0, 1, 3, 7, 12, 480].map(niceCeiling)).toEqual([1, 1, 5, 10, 20, 500]);
    expect(linePath([{ x: 0, y: 1, t: 1 }, { x: 1, y: 1, t: 2 }, { x: 5, y: 2, t: 6 }])).toBe('M 0.0 1.0 L 1.0 1.0 M 5.0 2.0');
  });
});
