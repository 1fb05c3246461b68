import { describe, expect, it } from 'vitest';
import { decodePayload, encodePayload } from '../../src/core/payload.js';

const secret = 'A'.repeat(43);

describe('payload decoding', () => {
  it('round-trips', () => {
    const payload = {
      data: { cart: ['a'], n: 1 },
      ip: '::1',
      userAgent: null,
      csrfSecret: secret,
      persistent: true,
      previousTokenHash: 'h'.repeat(43),
      successorSeen: false,
      credential: null,
    };
    expect(decodePayload(encodePayload(payload))).toEqual(payload);
  });

  it.each([
    ['plain', '{"__proto__":{"admin":true},"ok":1}'],
    ['escaped', '{"__pr\\u006fto__":{"admin":true},"ok":1}'],
    ['constructor', '{"constructor":{"prototype":{"admin":true}},"ok":1}'],
    ['nested', '{"a":{"b":{"__proto__":{"admin":true}}},"ok":1}'],
  ])('[SM-53] drops prototype-polluting keys (%s)', (_name, data) => {
    const decoded = decodePayload(
      `{"d":${data},"i":null,"u":null,"c":"${secret}","p":0,"r":null,"s":1,"f":null}`,
    )!;
    expect(decoded.data.ok).toBe(1);
    expect(JSON.stringify(decoded.data)).not.toMatch(/admin/);
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
  });

  it.each([
    '',
    'null',
    '[]',
    '{"d":[],"i":null,"u":null,"c":"x","p":0}',
    '{"d":{},"i":1,"u":null,"c":"x","p":0}',
    '{"d":{},"i":null,"u":null,"p":0}',
    '{"d":{},"i":null,"u":null,"c":"x","p":2}',
    '{"d":{',
    `{"d":{},"i":null,"u":null,"c":"x","p":0,"r":null,"s":2,"f":null}`,
    `{"d":{},"i":null,"u":null,"c":"x","p":0,"r":1,"s":1,"f":null}`,
    `{"d":{},"i":null,"u":null,"c":"x","p":0,"r":null,"s":1}`,
  ])('[SM-53] rejects malformed payload %j', (text) => {
    expect(decodePayload(text)).toBeNull();
  });
});
