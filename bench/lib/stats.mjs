// Medians and spreads across rounds.

export function median(values) {
  const sorted = values.filter((v) => v !== null && Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return null;
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** { median, min, max, n, cv } of the finite values (cv: relative standard deviation). */
export function summary(values) {
  const finite = values.filter((v) => v !== null && Number.isFinite(v));
  if (finite.length === 0) return { median: null, min: null, max: null, n: 0, cv: null };
  const mean = finite.reduce((a, b) => a + b, 0) / finite.length;
  const variance =
    finite.length > 1
      ? finite.reduce((sum, v) => sum + (v - mean) ** 2, 0) / (finite.length - 1)
      : 0;
  return {
    median: median(finite),
    min: Math.min(...finite),
    max: Math.max(...finite),
    n: finite.length,
    cv: finite.length < 2 || mean === 0 ? null : Math.sqrt(variance) / mean,
  };
}
