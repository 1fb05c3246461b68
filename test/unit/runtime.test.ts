import { describe, expect, it } from 'vitest';
import { systemRuntime } from '../../src/core/runtime.js';

describe('pooled randomness', () => {
  it('[SM-01] never hands out the same bytes twice, across pool refills', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 5000; i++) {
      const bytes = systemRuntime.randomBytes(32);
      expect(bytes).toHaveLength(32);
      seen.add(Buffer.from(bytes).toString('hex'));
    }
    expect(seen.size).toBe(5000);
  });

  it('returns copies: changing one result changes no other', () => {
    const a = systemRuntime.randomBytes(16);
    const b = Buffer.from(systemRuntime.randomBytes(16));
    a.fill(0);
    expect(Buffer.from(systemRuntime.randomBytes(16)).equals(b)).toBe(false);
    expect(b.some((byte) => byte !== 0)).toBe(true);
  });

  it('serves large requests directly', () => {
    expect(systemRuntime.randomBytes(10_000)).toHaveLength(10_000);
  });
});
