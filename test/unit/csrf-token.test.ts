import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  generateCSRFSecret,
  maskCSRFToken,
  verifyCSRFToken,
} from '../../src/csrf/synchronizer-token.js';
import { systemRuntime } from '../../src/core/runtime.js';

describe('masked synchronizer tokens', () => {
  const secret = generateCSRFSecret(systemRuntime.randomBytes);

  it('[SM-38] two renders differ and both validate', () => {
    const a = maskCSRFToken(secret, systemRuntime.randomBytes);
    const b = maskCSRFToken(secret, systemRuntime.randomBytes);
    expect(a).not.toBe(b);
    expect(verifyCSRFToken(a, secret)).toBe(true);
    expect(verifyCSRFToken(b, secret)).toBe(true);
    expect(a).not.toContain(secret);
  });

  it('[SM-38] a flipped character in the pad or the body fails', () => {
    const token = maskCSRFToken(secret, systemRuntime.randomBytes);
    for (const position of [0, 10, 43, 60, 84]) {
      const flipped =
        token.slice(0, position) +
        (token[position] === 'A' ? 'B' : 'A') +
        token.slice(position + 1);
      expect(verifyCSRFToken(flipped, secret), `position ${position}`).toBe(false);
    }
  });

  it('[SM-36] another secret does not validate', () => {
    expect(
      verifyCSRFToken(
        maskCSRFToken(secret, systemRuntime.randomBytes),
        generateCSRFSecret(systemRuntime.randomBytes),
      ),
    ).toBe(false);
  });

  it.each([
    undefined,
    null,
    123,
    [],
    {},
    true,
    '',
    'x',
    'A'.repeat(85),
    'A'.repeat(87),
    `${'A'.repeat(85)}+`,
    randomBytes(64).toString('base64'),
  ])('[SM-39] malformed token %j is rejected without throwing', (token) => {
    expect(verifyCSRFToken(token, secret)).toBe(false);
  });
});
