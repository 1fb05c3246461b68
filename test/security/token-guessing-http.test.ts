import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  isOk,
  meWith,
  signedIn,
  startDemo,
  wellFormedToken,
  type DemoServer,
} from '../integration/demo-helpers.js';

/** SM-55 over HTTP, on a demo instance of its own (the counter is per client address). */

let server: DemoServer;

beforeAll(async () => {
  server = await startDemo();
});

afterAll(async () => {
  await server.close();
});

describe('[SM-55] token guessing over HTTP', () => {
  it('[SM-55] 100 unknown tokens from one client, then 429 with Retry-After, and a rotating X-Forwarded-For (untrusted proxy) does not reset it', async () => {
    const alice = await signedIn(server);
    for (let i = 0; i < 100; i++)
      expect((await meWith(server, wellFormedToken())).status).toBe(401);

    const refused = await meWith(server, wellFormedToken());
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(refused.json()).toMatchObject({ error: 'ERR_TOO_MANY_REQUESTS' });
    const spoofed = await meWith(server, wellFormedToken(), { 'X-Forwarded-For': '198.51.100.9' });
    expect(spoofed.status).toBe(429);
    expect(server.events.filter((e) => e.type === 'session.guessing')).toHaveLength(1);

    // The same client's valid cookie waits for the window too; after it, all is as before.
    expect((await meWith(server, alice.token!)).status).toBe(429);
    server.clock.advance(61);
    expect(await isOk(server, alice.token!)).toBe(true);
    expect((await meWith(server, wellFormedToken())).status).toBe(401);
  });
});
