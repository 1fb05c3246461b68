/**
 * Runs one scenario against a fresh app and store: a browser per `by`, each with its own cookie
 * jar and CSRF token, an injected clock, and a store that can be switched off.
 */
import type { SessionStore } from '../../../src/index.js';
import { createMemoryStore } from '../../../src/stores/memory.js';
import { createClock, TEST_KEY, TEST_ORIGIN } from '../../support/harness.js';
import {
  parseSetCookie,
  sendRawRequest,
  type HttpResponse,
  type RawRequest,
} from '../../support/raw-http.js';
import type { StartApp } from './app-contract.js';
import { checkResponse, type Remembered } from './assertions.js';
import { EVIL, SID, type Scenario, type Step } from './steps.js';

interface Browser {
  readonly jar: Map<string, string>;
  csrf?: string;
  previousCSRF?: string;
}

/**
 * Runs the scenario and returns its transcript: one line per step with what any adapter must
 * answer identically (status, caching and type headers, cookie names and attributes, the JSON
 * body with tokens and ids replaced by their kind), for the parity test to compare.
 */
export async function runScenario(scenario: Scenario, startApp: StartApp): Promise<string[]> {
  const clock = createClock();
  const store = switchableStore(createMemoryStore());
  const app = await startApp({
    manager: {
      store: store.store,
      keys: [TEST_KEY],
      csrf: { origins: [TEST_ORIGIN] },
      ...scenario.options,
      runtime: { now: () => clock.now },
    },
  });
  const browsers = new Map<string, Browser>();
  const memory = new Map<string, Remembered>();
  const token = (name: string): string => {
    const found = memory.get(name)?.token;
    if (found === undefined) throw new Error(`Scenario bug: no token remembered as ${name}`);
    return found;
  };
  let previous: HttpResponse | undefined;
  const transcript: string[] = [];
  try {
    for (const [index, step] of scenario.steps.entries()) {
      const by = step.by ?? 'A';
      const label = `step ${index + 1} (${by}: ${step.send})`;
      if (step.wait !== undefined) clock.advance(step.wait);
      if (step.store !== undefined) store.down = step.store === 'down';
      let browser = browsers.get(by);
      if (browser === undefined) browsers.set(by, (browser = { jar: new Map() }));
      const response = await sendRawRequest(app.url, buildRequest(step, browser, token));
      checkResponse(step, response, { label, memory, previous });
      transcript.push(`${label}: ${describeResponse(step, response)}`);
      if (step.replay === undefined && step.cookie === undefined) keepCookies(browser, response);
      if (step.remember !== undefined) {
        memory.set(step.remember, {
          token: browser.jar.get(SID),
          sessionId: response.json?.sessionId,
        });
      }
      previous = response;
    }
  } finally {
    await app.close();
  }
  return transcript;
}

/** Body fields whose values differ between runs: only their presence is compared. */
const RANDOM_FIELDS = new Set(['sessionId', 'csrf']);

function describeResponse(step: Step, response: HttpResponse): string {
  // Node or the framework refused a hostile head before any app code ran: each words it its own way.
  if (step.expect.status === 'below-500' && [400, 431].includes(response.status))
    return `refused before the app: ${response.status}`;
  const header = (name: string): string => (response.headers.get(name) ?? []).join(', ');
  const vary = header('vary')
    .split(',')
    .map((entry) => entry.trim().toLowerCase())
    .filter((entry) => entry !== '')
    .sort();
  const cookies = response.setCookies.map((line) => {
    const { name, value, attributes } = parseSetCookie(line);
    const kept = [...attributes].map(([key, v]) => (key === 'expires' ? key : `${key}=${v}`));
    return `${name}=${value === '' ? '' : '<value>'}; ${kept.sort().join('; ')}`;
  });
  const json =
    response.json === undefined
      ? undefined
      : Object.fromEntries(
          Object.entries(response.json)
            .sort(([a], [b]) => a.localeCompare(b))
            .map(([key, value]) => [key, RANDOM_FIELDS.has(key) ? typeof value : value]),
        );
  return JSON.stringify({
    status: response.status,
    // The media type only: frameworks label the app's own JSON with or without a charset.
    type: header('content-type').split(';', 1)[0]?.trim().toLowerCase(),
    cacheControl: header('cache-control'),
    retryAfter: header('retry-after'),
    vary,
    cookies: cookies.sort(),
    json,
  });
}

function buildRequest(step: Step, browser: Browser, token: (name: string) => string): RawRequest {
  const [method, path] = step.send.split(' ') as [string, string];
  const headers: [string, string][] = [['X-Forwarded-Proto', 'https']];
  const jar = [...browser.jar].map(([name, value]) => `${name}=${value}`).join('; ');
  const cookies =
    step.cookie?.(token) ?? (step.replay === undefined ? jar : `${SID}=${token(step.replay)}`);
  for (const line of [cookies].flat()) if (line !== '') headers.push(['Cookie', line]);
  if (method === 'GET') return { method, path, headers };
  const site = step.site ?? 'same-origin';
  if (site !== 'foreign-origin') headers.push(['Sec-Fetch-Site', site]);
  headers.push(['Origin', site === 'same-origin' ? TEST_ORIGIN : EVIL]);
  const form = new URLSearchParams(step.form);
  const csrf = step.csrf ?? 'header';
  if (csrf !== 'missing') {
    const value = csrf === 'previous' ? browser.previousCSRF : browser.csrf;
    if (value === undefined) throw new Error(`Scenario bug: ${step.send} has no CSRF token`);
    // The first character carries six whole bits of the masked token: changing it always counts.
    const sent = csrf === 'wrong' ? `${value.startsWith('A') ? 'B' : 'A'}${value.slice(1)}` : value;
    if (csrf === 'field') form.set('_csrf', sent);
    else headers.push(['X-CSRF-Token', sent]);
  }
  headers.push(['Content-Type', 'application/x-www-form-urlencoded']);
  return { method, path, headers, body: form.toString() };
}

function keepCookies(browser: Browser, response: HttpResponse): void {
  for (const header of response.setCookies) {
    const { name, value, attributes } = parseSetCookie(header);
    if (attributes.get('max-age') === '0') browser.jar.delete(name);
    else browser.jar.set(name, value);
  }
  const csrf = response.json?.csrf;
  if (typeof csrf !== 'string') return;
  if (browser.csrf !== undefined) browser.previousCSRF = browser.csrf;
  browser.csrf = csrf;
}

/** A store whose server can be "stopped": every call then rejects like a dropped connection. */
function switchableStore(inner: SessionStore): { store: SessionStore; down: boolean } {
  const switchable = { down: false, store: inner };
  switchable.store = new Proxy(inner, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) =>
        switchable.down
          ? Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:6379'))
          : (value as (...a: unknown[]) => unknown).apply(target, args);
    },
  });
  return switchable;
}
