import { expect, it } from 'vitest';
import type { SessionStore } from '../../src/core/store.js';
import { describeEachStore } from '../support/every-store.js';
import { createClock, createHarness, type Clock, type Harness } from '../support/harness.js';

/**
 * SM-20: a rotated-out token counts as theft only once its successor has been presented at
 * least once, and the grace window is measured from the request's arrival. Real theft (the
 * successor seen, then the old token again after the grace window) still revokes.
 */

const SID = '__Host-sid';
const ROTATION = 60;
const GRACE = 10;

function harnessOn(store: SessionStore): { h: Harness<Record<string, unknown>>; clock: Clock } {
  const clock = createClock(Date.now());
  const h = createHarness({
    store,
    runtime: { now: () => clock.now },
    rotationIntervalSeconds: ROTATION,
    rotationGraceSeconds: GRACE,
    idleTimeoutSeconds: 1800,
  });
  return { h, clock };
}

/** Signs alice in and returns her token, then lets the rotation interval pass. */
async function signedInAndDue(h: Harness<Record<string, unknown>>, clock: Clock): Promise<string> {
  const browser = h.browser();
  await browser.visit((s) => s.login('alice'));
  clock.advance(ROTATION + 1);
  return browser.jar.get(SID)!;
}

/** One request with `token`; the new token it was given, if any, and who it was. */
async function present(
  h: Harness<Record<string, unknown>>,
  token: string,
  options: { ageMs?: number } = {},
): Promise<{ userId: string | null; rotatedTo: string | null }> {
  const { session, cookies } = await h.request(`${SID}=${token}`, options);
  const header = cookies.get(SID);
  const value = header === undefined ? '' : (header.split(';')[0] ?? '').slice(SID.length + 1);
  return { userId: session.userId, rotatedTo: value === '' ? null : value };
}

describeEachStore('[SM-20] theft detection', (kind) => {
  it('[SM-20] a lost rotation response does not log the user out: the old token is honoured and rotated again', async () => {
    const { h, clock } = harnessOn(await kind.open());
    const t1 = await signedInAndDue(h, clock);
    const lost = await present(h, t1);
    expect(lost.rotatedTo).not.toBeNull(); // T2, never delivered to the browser

    clock.advance(GRACE + 5);
    const retry = await present(h, t1);
    expect(retry.userId).toBe('alice');
    expect(retry.rotatedTo).not.toBeNull();
    expect(h.events.some((e) => e.type === 'session.theft_detected')).toBe(false);

    // The browser now holds T3; once it has used it, T1 coming back is theft.
    const t3 = retry.rotatedTo!;
    expect((await present(h, t3)).userId).toBe('alice');
    clock.advance(GRACE + 1);
    expect((await present(h, t1)).userId).toBeNull();
    expect(h.events.filter((e) => e.type === 'session.theft_detected')).toHaveLength(1);
    expect((await present(h, t3)).userId).toBeNull();
  });

  it('[SM-20] real theft still revokes: the successor was seen, then the old token came back after grace', async () => {
    const { h, clock } = harnessOn(await kind.open());
    const t1 = await signedInAndDue(h, clock);
    const t2 = (await present(h, t1)).rotatedTo!;
    expect((await present(h, t2)).userId).toBe('alice');
    clock.advance(GRACE + 1);

    expect((await present(h, t1)).userId).toBeNull();
    expect(h.events.find((e) => e.type === 'session.theft_detected')).toMatchObject({
      userId: 'alice',
      reason: 'revoke',
    });
    expect((await present(h, t2)).userId).toBeNull();
    expect(await h.manager.listUserSessions('alice')).toEqual([]);
  });

  it('[SM-20] the grace window is measured from the request arrival: a slow upload started with the old token survives', async () => {
    const { h, clock } = harnessOn(await kind.open());
    const t1 = await signedInAndDue(h, clock);
    const t2 = (await present(h, t1)).rotatedTo!;
    expect((await present(h, t2)).userId).toBe('alice');

    // An upload sent with T1 one second after the rotation takes 3 × the grace window.
    clock.advance(3 * GRACE);
    const ageMs = (3 * GRACE - 1) * 1000;
    expect((await present(h, t1, { ageMs })).userId).toBe('alice');
    expect(h.events.some((e) => e.type === 'session.theft_detected')).toBe(false);
    expect((await present(h, t2)).userId).toBe('alice');

    // Without that arrival time, the same late request is theft.
    expect((await present(h, t1)).userId).toBeNull();
    expect(h.events.some((e) => e.type === 'session.theft_detected')).toBe(true);
  });

  it('[SM-20] requests in flight with the old token during the grace window all succeed', async () => {
    const { h, clock } = harnessOn(await kind.open());
    const t1 = await signedInAndDue(h, clock);
    const results = await Promise.all(Array.from({ length: 20 }, () => present(h, t1)));
    expect(results.every((r) => r.userId === 'alice')).toBe(true);
    // One request won the rotation; the others used its version without a cookie.
    expect(results.filter((r) => r.rotatedTo !== null)).toHaveLength(1);
    expect(h.events.some((e) => e.type === 'session.theft_detected')).toBe(false);
  });
});
