/**
 * The adapter scenario table: the same HTTP conversations, run unchanged against every adapter
 * (DESIGN §1). An adapter's test supplies only {@link StartApp}, an app that:
 *
 * - creates its session manager with exactly `options.manager`, and the adapter with its defaults;
 * - treats a request from loopback carrying `X-Forwarded-Proto: https` as HTTPS;
 * - parses `application/x-www-form-urlencoded` bodies before the session middleware runs;
 * - mounts every route of {@link SCENARIO_ROUTES}, answering `status` with `json` as JSON (or an
 *   empty body without it), and lets thrown errors reach the adapter's error handler.
 *
 * Requests go over a raw socket, so that hostile headers arrive byte for byte.
 */
import { describe, it } from 'vitest';
import { CSRF_SCENARIOS } from './adapter-scenarios/csrf.js';
import { FAILURE_SCENARIOS } from './adapter-scenarios/failure.js';
import { LIFECYCLE_SCENARIOS } from './adapter-scenarios/lifecycle.js';
import { runScenario } from './adapter-scenarios/runner.js';
import type { StartApp } from './adapter-scenarios/app-contract.js';
import type { Scenario } from './adapter-scenarios/steps.js';

export { SCENARIO_ROUTES } from './adapter-scenarios/app-contract.js';
export type {
  RouteAnswer,
  ScenarioApp,
  ScenarioAppOptions,
  ScenarioData,
  ScenarioRoute,
  StartApp,
} from './adapter-scenarios/app-contract.js';
export type { Scenario } from './adapter-scenarios/steps.js';

/** Every scenario, in the order each adapter's suite lists them. */
export const SCENARIOS: readonly Scenario[] = [
  ...LIFECYCLE_SCENARIOS,
  ...CSRF_SCENARIOS,
  ...FAILURE_SCENARIOS,
];

/**
 * Registers every scenario for one adapter; each runs against a fresh app and store, and hands
 * its transcript (see `runScenario`) to `onTranscript` when it passed.
 */
export function describeAdapterScenarios(
  adapter: string,
  startApp: StartApp,
  onTranscript?: (title: string, transcript: readonly string[]) => void,
): void {
  describe(`${adapter}: adapter scenarios`, () => {
    for (const scenario of SCENARIOS) {
      it(scenario.title, async () => {
        const transcript = await runScenario(scenario, startApp);
        onTranscript?.(scenario.title, transcript);
      });
    }
  });
}
