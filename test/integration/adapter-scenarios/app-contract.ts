/**
 * What an adapter's test supplies to the scenario table: a {@link StartApp} that mounts every
 * route of {@link SCENARIO_ROUTES} (the contract is spelled out in `../adapter-scenarios.ts`).
 */
import type { Session, SessionManagerOptions } from '../../../src/index.js';

export interface ScenarioAppOptions {
  readonly manager: SessionManagerOptions;
}
export interface ScenarioApp {
  readonly url: string;
  close(): Promise<void>;
}
export type StartApp = (options: ScenarioAppOptions) => Promise<ScenarioApp>;

export interface ScenarioData {
  note: string;
}
export interface RouteAnswer {
  readonly status: number;
  readonly json?: Readonly<Record<string, unknown>>;
}
export interface ScenarioRoute {
  readonly method: 'GET' | 'POST';
  readonly path: string;
  /** What the route does; `form` is the parsed body (`{}` without one). */
  run(session: Session<ScenarioData>, form: unknown): RouteAnswer | Promise<RouteAnswer>;
}

const whoami = (s: Session<ScenarioData>) => ({
  user: s.userId,
  sessionId: s.id,
  note: s.get('note') ?? null,
});
const field = (form: unknown, name: string): string | undefined => {
  const value = (form as Record<string, unknown> | undefined)?.[name];
  return typeof value === 'string' ? value : undefined;
};

export const SCENARIO_ROUTES: readonly ScenarioRoute[] = [
  { method: 'GET', path: '/whoami', run: (s) => ({ status: 200, json: whoami(s) }) },
  {
    method: 'GET',
    path: '/csrf',
    run: (s) => ({ status: 200, json: { ...whoami(s), csrf: s.csrfToken() } }),
  },
  {
    method: 'POST',
    path: '/login',
    async run(s, form) {
      await s.login(field(form, 'user') ?? 'alice');
      return { status: 200, json: { ...whoami(s), csrf: s.csrfToken() } };
    },
  },
  {
    method: 'POST',
    path: '/logout',
    async run(s) {
      await s.logout();
      return { status: 204 };
    },
  },
  {
    method: 'POST',
    path: '/logout-everywhere',
    run: async (s) => ({ status: 200, json: { revoked: await s.revokeAllSessions() } }),
  },
  {
    method: 'POST',
    path: '/data',
    async run(s, form) {
      await s.set('note', field(form, 'note') ?? '');
      return { status: 200, json: whoami(s) };
    },
  },
];
