import { describe, expect, it } from 'vitest';
import { describeOriginHeader } from '../../src/csrf/request-check.js';

describe('describeOriginHeader (for events and warnings only)', () => {
  it('keeps an ordinary origin as received', () => {
    expect(describeOriginHeader('https://APP.test:8443')).toBe('https://APP.test:8443');
  });

  it('is null when there is no Origin header', () => {
    expect(describeOriginHeader(undefined)).toBeNull();
  });

  it('joins repeated headers', () => {
    expect(describeOriginHeader(['https://a.test', 'https://b.test'])).toBe(
      'https://a.test, https://b.test',
    );
  });

  it('replaces control characters, so a log line cannot be forged or a terminal driven', () => {
    expect(describeOriginHeader('https://a.test\r\nlevel=info\u0000\u009b')).toBe(
      'https://a.test??level=info??',
    );
  });

  it('cuts values longer than 200 characters', () => {
    const described = describeOriginHeader(`https://${'x'.repeat(1000)}`);
    expect(described).toHaveLength(200);
    expect(described?.endsWith('…')).toBe(true);
  });
});
