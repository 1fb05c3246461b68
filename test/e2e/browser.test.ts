import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALICE, startDemo, type DemoServer } from '../integration/demo-helpers.js';

/**
 * The demo in Debian's Chromium (never a downloaded browser). The demo trusts the loopback
 * proxy and every page request carries `X-Forwarded-Proto: https`, as behind a TLS proxy, so
 * the cookie is `__Host-sid; Secure` — which Chromium accepts on http://localhost, a secure
 * context.
 */
const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) {
  const message = `${CHROMIUM} is missing (apt-get install chromium)`;
  if (process.env.CI === 'true') throw new Error(`${message}; CI requires it (see .ci/run)`);
  console.warn(`[skip] ${message}: browser tests are skipped.`);
}

describe.skipIf(!hasChromium)('the demo in a real browser', () => {
  let demo: DemoServer;
  let browser: Browser;
  let evil: Server;
  let app: string;
  let evilOrigin: string;

  beforeAll(async () => {
    demo = await startDemo({ https: true });
    app = `http://localhost:${demo.port}`;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    // Another site (127.0.0.1 is not same-site with localhost) that posts to the app.
    evil = createServer((req, res) => {
      res.setHeader('Content-Type', 'text/html');
      res.end(`<form id="f" method="post" action="${app}${req.url ?? '/'}"><input name="x" value="1"></form>
        <script>document.getElementById('f').submit()</script>`);
    });
    await new Promise<void>((resolve) => evil.listen(0, '127.0.0.1', resolve));
    evilOrigin = `http://127.0.0.1:${(evil.address() as AddressInfo).port}`;
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    evil?.close();
    await demo?.close();
  });

  async function signIn(): Promise<BrowserContext> {
    const context = await browser.newContext({
      extraHTTPHeaders: { 'X-Forwarded-Proto': 'https' },
    });
    const page = await context.newPage();
    await page.goto(`${app}/login`);
    await page.fill('input[name=email]', ALICE.email);
    await page.fill('input[name=password]', ALICE.password);
    await Promise.all([page.waitForURL(`${app}/account`), page.click('button')]);
    await expect(page.textContent('body')).resolves.toContain(ALICE.email);
    return context;
  }

  it('[SM-07][SM-08] Chromium stores the __Host- cookie as HttpOnly, Secure, SameSite=Lax, and scripts cannot read it', async () => {
    const context = await signIn();
    const cookies = await context.cookies(app);
    const session = cookies.find((cookie) => cookie.name === '__Host-sid');
    expect(session).toMatchObject({
      path: '/',
      httpOnly: true,
      secure: true,
      sameSite: 'Lax',
      expires: -1,
    });
    expect(session!.domain).toBe('localhost');
    const page = context.pages()[0]!;
    expect(await page.evaluate<string>('document.cookie')).not.toContain(session!.value);
    await context.close();
  });

  it('[SM-45][H-28][SM-26] a cross-site form post is refused and the session survives', async () => {
    const context = await signIn();
    const page = await context.newPage();
    const response = page.waitForResponse((r) => r.url() === `${app}/logout`);
    await page.goto(`${evilOrigin}/logout`);
    expect((await response).status()).toBe(403);
    const me = await context.request.get(`${app}/api/me`);
    expect(me.status()).toBe(200);
    await context.close();
  });

  it('[SM-49][H-26] logout clears site data and the back button does not show the signed-in page', async () => {
    const context = await signIn();
    const page = context.pages()[0]!;
    await page.evaluate("localStorage.setItem('draft', 'alice-private-note')");
    await Promise.all([page.waitForURL(`${app}/`), page.click('form[action="/logout"] button')]);
    expect(await page.evaluate<string | null>("localStorage.getItem('draft')")).toBeNull();
    expect(await context.cookies(app)).toEqual([]);
    await page.goBack();
    await expect(page.textContent('body')).resolves.not.toContain(ALICE.email);
    await context.close();
  });
});
