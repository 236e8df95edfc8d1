import binomialCdf from '@stdlib/stats-base-dists-binomial-cdf';
import kruskalTest from '@stdlib/stats-kruskal-test';
import ranks from '@stdlib/stats-ranks';

// The statistics of studies. The median's 95% interval is the exact
// distribution-free order-statistic interval (no resampling, so no seed: the
// same samples give the same interval); the difference of two samples is the
// Mann-Whitney U test, computed as stdlib's Kruskal-Wallis test with two
// groups (for two groups its H is the square of the U test's normal
// approximation with the tie correction, so the p-values are the same), and
// its effect size the rank-biserial correlation from the same ranks.

export interface MedianCi {
  n: number;
  median: number | null;
  lo: number | null;
  hi: number | null;
  /** the interval's exact coverage; below the level asked when n < 6 (then it is [min, max]) */
  coverage: number | null;
}

export function median(sorted: readonly number[]): number | null {
  const n = sorted.length;
  if (!n) return null;
  const m = Math.floor(n / 2);
  return n % 2 ? (sorted[m] as number) : ((sorted[m - 1] as number) + (sorted[m] as number)) / 2;
}

/**
 * Median and its confidence interval [x(k), x(n-k+1)] (1-based order
 * statistics), k the largest with P(B <= k-1) <= (1-level)/2, B ~ Bin(n, 1/2):
 * the interval covers the population median with probability
 * 1 - 2 P(B <= k-1) >= level, whatever the distribution.
 */
export function medianCi(values: readonly number[], level = 0.95): MedianCi {
  const x = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  const n = x.length;
  if (!n) return { n, median: null, lo: null, hi: null, coverage: null };
  const tail = (1 - level) / 2;
  let k = 1;
  while (k + 1 <= Math.ceil(n / 2) && binomialCdf(k, n, 0.5) <= tail) k++;
  const coverage = n === 1 ? 0 : 1 - 2 * binomialCdf(k - 1, n, 0.5);
  return { n, median: median(x), lo: x[k - 1] as number, hi: x[n - k] as number, coverage };
}

export interface Difference {
  nA: number;
  nB: number;
  medianA: number | null;
  medianB: number | null;
  /** two-sided p-value of the Mann-Whitney U test (normal approximation, tie-corrected); null: a side has no sample */
  p: number | null;
  /** U of sample A: pairs (a, b) with a > b, ties counting one half */
  uA: number | null;
  /** rank-biserial correlation 2 U_A / (nA nB) - 1: +1 every A above every B, -1 every A below, 0 no tendency */
  effect: number | null;
  method: string;
}

export function difference(a: readonly number[], b: readonly number[]): Difference {
  const A = a.filter(Number.isFinite);
  const B = b.filter(Number.isFinite);
  const base = {
    nA: A.length,
    nB: B.length,
    medianA: median([...A].sort((x, y) => x - y)),
    medianB: median([...B].sort((x, y) => x - y)),
    method: 'Mann-Whitney U (as Kruskal-Wallis with 2 groups, @stdlib/stats-kruskal-test), rank-biserial effect',
  };
  if (!A.length || !B.length) return { ...base, p: null, uA: null, effect: null };
  const r = ranks([...A, ...B]) as number[];
  let rankSumA = 0;
  for (let i = 0; i < A.length; i++) rankSumA += r[i] as number;
  const uA = rankSumA - (A.length * (A.length + 1)) / 2;
  const effect = (2 * uA) / (A.length * B.length) - 1;
  // every value the same: nothing to tell apart (the test divides by zero there)
  const allSame = [...A, ...B].every((v) => v === A[0]);
  const p = allSame ? 1 : kruskalTest(A, B).pValue;
  return { ...base, p: Number.isFinite(p) ? p : 1, uA, effect };
}
