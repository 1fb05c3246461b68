/**
 * The adapter scenario table, run unchanged against every adapter, and then compared across
 * them: for the same scenario, every adapter answers each step with the same status, caching
 * headers, cookie names and attributes, and body (tokens and ids compared by kind only).
 */
import { describe, expect, it } from 'vitest';
import { describeAdapterScenarios, SCENARIOS } from './adapter-scenarios.js';
import { EXPRESS_VERSIONS } from './express-helpers.js';
import { startExpressApp } from './scenario-apps/express.js';
import { startFastifyApp } from './scenario-apps/fastify.js';
import { startHonoApp } from './scenario-apps/hono.js';
import { startWebApp } from './scenario-apps/web.js';

const APPS = [
  ...EXPRESS_VERSIONS.map(([name, express]) => [name, startExpressApp(express)] as const),
  ['Fastify 5', startFastifyApp],
  ['web', startWebApp],
  ['Hono', startHonoApp],
] as const;

/** By scenario title, each adapter's transcript. */
const transcripts = new Map<string, Map<string, readonly string[]>>();

for (const [name, startApp] of APPS) {
  describeAdapterScenarios(name, startApp, (title, transcript) => {
    const byAdapter = transcripts.get(title) ?? new Map<string, readonly string[]>();
    transcripts.set(title, byAdapter.set(name, transcript));
  });
}

// Vitest runs the tests of a file in order: every adapter has run each scenario by now.
describe('every adapter answers alike', () => {
  for (const { title } of SCENARIOS) {
    it(title, () => {
      const byAdapter = transcripts.get(title);
      expect([...(byAdapter?.keys() ?? [])], 'every adapter ran it').toEqual(
        APPS.map(([name]) => name),
      );
      const reference = byAdapter?.get('Express 5');
      for (const [name, transcript] of byAdapter ?? []) expect(transcript, name).toEqual(reference);
    });
  }
});
