import { describe, expect, it } from 'vitest';
import { difference, medianCi } from '../../../orchestrator/study/stats.js';

describe('median and its order-statistic interval', () => {
  it('matches the tabulated ranks: n=10 -> x(2)..x(9) (98.9%), n=20 -> x(6)..x(15) (95.9%)', () => {
    const ten = [10, 1, 9, 2, 8, 3, 7, 4, 6, 5];
    const c = medianCi(ten);
    expect(c).toMatchObject({ n: 10, median: 5.5, lo: 2, hi: 9 });
    expect(c.coverage!).toBeCloseTo(0.9785, 3);
    const twenty = Array.from({ length: 20 }, (_, i) => 20 - i);
    const d = medianCi(twenty);
    expect([d.lo, d.hi]).toEqual([6, 15]);
    expect(d.coverage!).toBeCloseTo(0.9586, 3);
    expect(d.coverage!).toBeGreaterThanOrEqual(0.95);
  });

  it('says when too few samples cannot reach 95% (n < 6: min..max and its real coverage)', () => {
    const c = medianCi([3, 1, 2]);
    expect(c).toMatchObject({ n: 3, median: 2, lo: 1, hi: 3 });
    expect(c.coverage).toBeCloseTo(0.75, 6);
    expect(medianCi([]).median).toBeNull();
    expect(medianCi([4]).coverage).toBe(0);
  });
});

describe('difference of two samples', () => {
  it('gives the textbook U test p-value and the rank-biserial effect', () => {
    // Hollander & Wolfe's example as in stdlib's docs; U test normal approximation: U = 8 of 20 pairs, z = (8 - 10) / sqrt(5*4*10/12) = -0.490 -> p = 0.624
    const x = [2.9, 3.0, 2.5, 2.6, 3.2];
    const y = [3.8, 2.7, 4.0, 2.4];
    const d = difference(x, y);
    expect(d.uA).toBe(8);
    expect(d.effect).toBeCloseTo(2 * 8 / 20 - 1, 9);
    expect(d.p!).toBeCloseTo(0.6242, 3);
  });

  it('tells apart clearly shifted samples and not equal ones', () => {
    const a = Array.from({ length: 12 }, (_, i) => 10 + (i % 4));
    const b = a.map((v) => v + 20);
    const d = difference(a, b);
    expect(d.p!).toBeLessThan(0.001);
    expect(d.effect).toBe(-1);
    expect(difference([1, 1, 1], [1, 1]).p).toBe(1);
    expect(difference([], [1]).p).toBeNull();
  });
});
