// Every server the HTTP benchmark runs. One entry per variant: its server file (bench/servers/),
// the environment it gets, what it needs to run, and the bare framework it is compared with.
//
// To add Strongroom on a new adapter: write bench/servers/strongroom-<adapter>.mjs after
// bench/servers/strongroom-express.mjs (same two routes, plus GET /csrf) and list the adapter in
// STRONGROOM_ADAPTERS below; the runner, the tables and the chart then pick it up.

/** Stores Strongroom is benchmarked on, and what each needs besides its dist module. */
const STRONGROOM_STORES = [
  { store: 'memory', label: 'memory', services: [] },
  { store: 'sqlite', label: 'SQLite', services: [] },
  { store: 'redis', label: 'Redis', services: ['redis'] },
  { store: 'postgres', label: 'PostgreSQL', services: ['postgres'] },
];

/** Strongroom's adapters. A variant whose server file or dist module is missing is skipped with a note. */
const STRONGROOM_ADAPTERS = [
  { adapter: 'express', label: 'Express', baseline: 'bare-express' },
  {
    adapter: 'fastify',
    label: 'Fastify',
    baseline: 'bare-fastify',
  },
  {
    adapter: 'web',
    label: 'web Request/Response',
    baseline: 'bare-web',
  },
  { adapter: 'hono', label: 'Hono', baseline: 'bare-hono' },
];

const STRONGROOM_ME =
  'one store read; idle expiry extended by a store write at most once per 60 s (none inside a run)';
const STRONGROOM_LOGIN = 'login() (insert new session, old one deleted) + update() (profile)';

const BARE = [
  {
    id: 'bare-node',
    label: 'node:http (bare)',
    framework: 'node',
    server: 'bare-node.mjs',
    me: 'fixed JSON, no session',
    login: 'fixed JSON, no session',
  },
  {
    id: 'bare-express',
    label: 'Express (bare)',
    framework: 'express',
    server: 'bare-express.mjs',
    me: 'fixed JSON, no session',
    login: 'fixed JSON, no session',
  },
  {
    id: 'bare-fastify',
    label: 'Fastify (bare)',
    framework: 'fastify',
    server: 'bare-fastify.mjs',
    me: 'fixed JSON, no session',
    login: 'fixed JSON, no session',
  },
  {
    id: 'bare-hono',
    label: 'Hono (bare)',
    framework: 'hono',
    server: 'bare-hono.mjs',
    me: 'fixed JSON on @hono/node-server, no session',
    login: 'fixed JSON on @hono/node-server, no session',
  },
  {
    id: 'bare-web',
    label: 'web bridge (bare)',
    framework: 'web',
    server: 'bare-web.mjs',
    me: 'fixed JSON via Request/Response over node:http',
    login: 'fixed JSON via Request/Response over node:http',
  },
];

const COMPETITORS = [
  ...[
    ['memory', 'MemoryStore', []],
    ['redis', 'connect-redis', ['redis']],
    ['postgres', 'connect-pg-simple', ['postgres']],
  ].map(([store, storeLabel, services]) => ({
    id: `express-session-${store}`,
    label: `express-session · ${storeLabel}`,
    library: 'express-session',
    framework: 'express',
    store,
    server: 'express-session.mjs',
    env: { BENCH_STORE: store },
    services,
    baseline: 'bare-express',
    me: 'store read; rolling: cookie re-signed and re-sent, store touch() on every request',
    login: 'regenerate() (destroy + new id) then one store write',
  })),
  ...[
    ['memory', 'MemoryStore', []],
    ['redis', 'connect-redis', ['redis']],
  ].map(([store, storeLabel, services]) => ({
    id: `fastify-session-${store}`,
    label: `@fastify/session · ${storeLabel}`,
    library: '@fastify/session',
    framework: 'fastify',
    store,
    server: 'fastify-session.mjs',
    env: { BENCH_STORE: store },
    services,
    baseline: 'bare-fastify',
    me: 'store read; rolling (default): session saved and cookie re-sent on every request',
    login: 'regenerate() (destroy + save) then save at reply',
  })),
  {
    id: 'fastify-secure-session',
    label: '@fastify/secure-session (cookie)',
    library: '@fastify/secure-session',
    framework: 'fastify',
    store: 'cookie',
    server: 'fastify-secure-session.mjs',
    baseline: 'bare-fastify',
    me: 'cookie opened; touch(): re-sealed and re-sent',
    login: 'data sealed into a new cookie (no server state to regenerate)',
  },
  {
    id: 'iron-session',
    label: 'iron-session (cookie)',
    library: 'iron-session',
    framework: 'node',
    store: 'cookie',
    server: 'iron-session.mjs',
    baseline: 'bare-node',
    me: 'cookie unsealed; save(): re-sealed and re-sent to renew the ttl',
    login: 'data sealed into a new cookie (no server state to regenerate)',
  },
];

const STRONGROOM = STRONGROOM_ADAPTERS.flatMap((adapter) =>
  STRONGROOM_STORES.map((store) => ({
    id: `strongroom-${adapter.adapter}-${store.store}`,
    label: `Strongroom · ${adapter.label} · ${store.label}`,
    library: 'strongroom',
    framework: adapter.baseline.replace('bare-', ''),
    store: store.store,
    server: `strongroom-${adapter.adapter}.mjs`,
    env: { BENCH_STORE: store.store },
    services: store.services,
    modules: [`adapter:${adapter.adapter}`, `store:${store.store}`],
    baseline: adapter.baseline,
    me: STRONGROOM_ME,
    login: STRONGROOM_LOGIN,
  })),
);

/** express-session's interface on Strongroom: the express-session server's routes, unchanged. */
const STRONGROOM_COMPAT = STRONGROOM_STORES.filter(({ store }) => store !== 'postgres').map(
  (store) => ({
    id: `strongroom-express-session-${store.store}`,
    label: `Strongroom · express-session layer · ${store.label}`,
    library: 'strongroom',
    framework: 'express',
    store: store.store,
    server: 'strongroom-express-session.mjs',
    env: { BENCH_STORE: store.store },
    services: store.services,
    modules: ['adapter:express-session', `store:${store.store}`],
    baseline: 'bare-express',
    me: STRONGROOM_ME,
    login: 'regenerate(), then req.session.userId = …: one login() with the data at the end',
  }),
);

/** The cost of Strongroom's CSRF defence on POST /login (Fetch-Metadata + masked token). */
const STRONGROOM_CSRF = {
  id: 'strongroom-express-memory-csrf',
  label: 'Strongroom · Express · memory · CSRF enforced',
  library: 'strongroom',
  framework: 'express',
  store: 'memory',
  server: 'strongroom-express.mjs',
  env: { BENCH_STORE: 'memory', BENCH_CSRF: 'enforce' },
  modules: ['adapter:express', 'store:memory'],
  baseline: 'bare-express',
  csrf: true,
  me: STRONGROOM_ME,
  login: `${STRONGROOM_LOGIN}; Sec-Fetch-Site and X-CSRF-Token checked first`,
};

export const VARIANTS = [
  ...BARE,
  ...COMPETITORS,
  ...STRONGROOM,
  ...STRONGROOM_COMPAT,
  STRONGROOM_CSRF,
].map((variant) => ({
  env: {},
  services: [],
  modules: [],
  baseline: null,
  library: null,
  store: null,
  csrf: false,
  ...variant,
}));

/** Head-to-head throughput ratios reported besides the ratios against the bare framework. */
export const HEAD_TO_HEAD = [
  ['strongroom-express-memory', 'express-session-memory'],
  ['strongroom-express-redis', 'express-session-redis'],
  ['strongroom-express-postgres', 'express-session-postgres'],
  ['strongroom-express-memory', 'fastify-session-memory'],
  ['strongroom-fastify-memory', 'fastify-session-memory'],
  ['strongroom-fastify-sqlite', 'fastify-session-memory'],
  ['strongroom-fastify-redis', 'fastify-session-redis'],
  ['strongroom-express-session-memory', 'strongroom-express-memory'],
  ['strongroom-express-session-redis', 'strongroom-express-redis'],
  ['strongroom-express-session-memory', 'express-session-memory'],
  ['strongroom-express-session-redis', 'express-session-redis'],
];

export function findVariant(id) {
  return VARIANTS.find((variant) => variant.id === id);
}
