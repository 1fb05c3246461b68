import type { AddressInfo } from 'node:net';
import { inspect } from 'node:util';
import express from 'express';
import { afterEach, beforeEach, describe, expect, it, vi, type MockInstance } from 'vitest';
import { CSRFError, type SessionEvent } from '../../src/index.js';
import { expressSessions } from '../../src/adapters/express.js';
import { createHarness, TEST_ORIGIN, type RequestOptions } from '../support/harness.js';

const WWW = 'https://www.app.test';
const SIB = 'https://sib.app.test';
const EVIL = 'https://evil.test';

let emitWarning: MockInstance<typeof process.emitWarning>;
beforeEach(() => {
  emitWarning = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
});
afterEach(() => {
  emitWarning.mockRestore();
});

/** A manager whose own origin is TEST_ORIGIN, with SIB trusted. */
function setup() {
  const h = createHarness({ csrf: { origins: [TEST_ORIGIN], trustedOrigins: [SIB] } });
  async function post(
    overrides: RequestOptions,
  ): Promise<{ error: CSRFError; event: SessionEvent }> {
    const before = h.events.length;
    const error = await h.request(undefined, { method: 'POST', ...overrides }).then(
      () => null,
      (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(CSRFError);
    const events = h.events.slice(before).filter((e) => e.type === 'csrf.rejected');
    expect(events).toHaveLength(1);
    return { error: error as CSRFError, event: events[0] as SessionEvent };
  }
  const warnings = (): string[] => emitWarning.mock.calls.map((call) => String(call[0]));
  return { h, post, warnings };
}

describe('why a CSRF check failed is told to the app, never to the client (issue 9)', () => {
  it('[SM-41] origin-mismatch: the event names the received and the configured origins', async () => {
    const { post } = setup();
    const { error, event } = await post({ origin: WWW });
    expect(event).toMatchObject({
      type: 'csrf.rejected',
      reason: 'origin-mismatch',
      origin: WWW,
      expectedOrigins: [TEST_ORIGIN, SIB],
    });
    // The error stays generic: it ends up in response bodies and in the client's hands.
    expect(error.message).toBe('Cross-site request forgery check failed: origin-mismatch');
    for (const view of [error.message, JSON.stringify(error), inspect(error), String(error)]) {
      expect(view).not.toContain('www.app.test');
    }
  });

  it('[SM-41] origin-mismatch: a process warning names both, once per origin', async () => {
    const { post, warnings } = setup();
    await post({ origin: WWW });
    await post({ origin: WWW });
    expect(warnings()).toEqual([
      'Strongroom refused an unsafe request (origin-mismatch): Origin "https://www.app.test" is in neither csrf.origins ["https://app.test"] nor csrf.trustedOrigins ["https://sib.app.test"]. If it is the app\'s own address, list it exactly as the browser sends it (scheme://host[:port]). This origin is not reported here again; every rejection emits csrf.rejected.',
    ]);
  });

  it('[SM-41] the warnings stop after five origins, so made-up origins cannot flood the log', async () => {
    const { post, warnings } = setup();
    for (let i = 0; i < 20; i++) await post({ origin: `https://probe${i}.test` });
    expect(warnings()).toHaveLength(5);
    expect(warnings()[4]).toContain('No further origins are reported here');
  });

  it('[SM-40] cross-site and origin-null rejections carry the Origin in the event, without a warning', async () => {
    const { post, warnings } = setup();
    expect((await post({ fetchSite: 'cross-site', origin: EVIL })).event).toMatchObject({
      reason: 'cross-site',
      origin: EVIL,
      expectedOrigins: [TEST_ORIGIN, SIB],
    });
    expect((await post({ fetchSite: 'same-site' })).event).toMatchObject({
      reason: 'same-site',
      origin: null,
    });
    expect((await post({ origin: 'null' })).event).toMatchObject({
      reason: 'origin-null',
      origin: 'null',
    });
    expect(warnings()).toEqual([]);
  });

  it('[SM-41][H-17] a repeated, oversized or control-character Origin is logged neutralised', async () => {
    const { post } = setup();
    expect((await post({ origin: [TEST_ORIGIN, EVIL] })).event.origin).toBe(
      `${TEST_ORIGIN}, ${EVIL}`,
    );
    const long = `https://${'a'.repeat(500)}.test`;
    expect((await post({ origin: long })).event.origin).toHaveLength(200);
    expect((await post({ origin: 'https://a.test\u001b[2J' })).event.origin).toBe(
      'https://a.test?[2J',
    );
  });

  it('[SM-36] token failures carry no origin fields', async () => {
    const { post } = setup();
    const { event } = await post({ origin: TEST_ORIGIN });
    expect(event.reason).toBe('token-missing');
    expect(event).not.toHaveProperty('origin');
    expect(event).not.toHaveProperty('expectedOrigins');
  });

  it('[SM-41] the Express error body is code, message and reason only: no origin', async () => {
    const { h } = setup();
    const auth = expressSessions(h.manager);
    const app = express();
    app.use(auth.middleware);
    app.post('/', (_req, res) => {
      res.sendStatus(204);
    });
    app.use(auth.errorHandler);
    const server = app.listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => server.once('listening', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const response = await fetch(`http://127.0.0.1:${port}/`, {
        method: 'POST',
        headers: { origin: WWW },
      });
      expect(response.status).toBe(403);
      const text = await response.text();
      expect(JSON.parse(text)).toEqual({
        error: 'ERR_CSRF',
        message: 'Cross-site request forgery check failed: origin-mismatch',
        reason: 'origin-mismatch',
      });
      expect(text).not.toContain('www.app.test');
      expect(text).not.toContain(TEST_ORIGIN);
      // ...while the app's listeners got the detail.
      expect(h.events.at(-1)).toMatchObject({ origin: WWW, expectedOrigins: [TEST_ORIGIN, SIB] });
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
