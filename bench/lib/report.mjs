// Turns the raw results into BENCHMARKS.md, results.json and the SVG chart. The tables are
// generated, never edited by hand: change this file and run the benchmark again.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { summary } from './stats.mjs';
import { cpuChart } from './svg.mjs';
import { findVariant, HEAD_TO_HEAD } from './variants.mjs';

const ROUTES = [
  { key: 'me', title: 'GET /me — authenticated read (~200-byte profile)' },
  { key: 'login', title: 'POST /login — new session with the profile' },
];

const n0 = (v) =>
  v === null || !Number.isFinite(v) ? 'n/a' : Math.round(v).toLocaleString('en-US');
const n1 = (v) => (v === null || !Number.isFinite(v) ? 'n/a' : v.toFixed(1));
const n2 = (v) => (v === null || !Number.isFinite(v) ? 'n/a' : v.toFixed(2));
const ms = (v) => (v === null || !Number.isFinite(v) ? 'n/a' : v < 1 ? v.toFixed(3) : v.toFixed(2));
const signed = (v) =>
  v === null || !Number.isFinite(v) ? 'n/a' : `${v >= 0 ? '+' : '−'}${Math.abs(v).toFixed(1)}`;
const range = (s, f) => (s.n > 1 ? `${f(s.min)}–${f(s.max)}` : '—');
const pct = (v) => (v === null || !Number.isFinite(v) ? 'n/a' : `${(v * 100).toFixed(1)} %`);
const bytes = (v) =>
  v === null || !Number.isFinite(v)
    ? 'n/a'
    : v >= 2 ** 20
      ? `${(v / 2 ** 20).toFixed(1)} MiB`
      : v >= 10_240
        ? `${(v / 1024).toFixed(0)} KiB`
        : `${Math.round(v).toLocaleString('en-US')} B`;

function table(header, align, rows) {
  return [
    `| ${header.join(' | ')} |`,
    `| ${align.map((a) => (a === 'r' ? '---:' : '---')).join(' | ')} |`,
    ...rows.map(
      (row) => `| ${row.map((cell) => String(cell).replace(/\|/g, '\\|')).join(' | ')} |`,
    ),
  ].join('\n');
}

/** Per variant and route: summaries across rounds. */
export function aggregate(data) {
  const out = new Map();
  for (const id of data.variants) {
    const runs = data.runs.filter((run) => run.variant === id && !run.error);
    const failures = data.runs.filter((run) => run.variant === id && run.error);
    const routes = {};
    for (const { key } of ROUTES) {
      const rs = runs.map((run) => run[key]);
      routes[key] = {
        rps: summary(rs.map((r) => r.rps)),
        p50: summary(rs.map((r) => r.p50Ms)),
        p99: summary(rs.map((r) => r.p99Ms)),
        cpu: summary(rs.map((r) => r.serverCpuUsPerReq)),
        storeCpu: summary(rs.map((r) => r.storeCpuUsPerReq)),
        errors: rs.reduce((sum, r) => sum + r.errors, 0),
        timeouts: rs.reduce((sum, r) => sum + r.timeouts, 0),
        requests: rs.reduce((sum, r) => sum + r.requests, 0),
      };
    }
    out.set(id, { variant: findVariant(id), rounds: runs.length, failures, routes });
  }
  return out;
}

/** Per-round comparisons of `id` against `other`, summarised. */
function paired(data, id, other, route) {
  const added = [];
  const throughput = [];
  const cpuRatio = [];
  for (const run of data.runs) {
    if (run.variant !== id || run.error) continue;
    const base = data.runs.find((r) => r.variant === other && r.round === run.round && !r.error);
    if (!base) continue;
    const a = run[route];
    const b = base[route];
    if (a.serverCpuUsPerReq !== null && b.serverCpuUsPerReq !== null) {
      added.push(a.serverCpuUsPerReq - b.serverCpuUsPerReq);
      cpuRatio.push(a.serverCpuUsPerReq / b.serverCpuUsPerReq);
    }
    throughput.push(a.rps / b.rps);
  }
  return { added: summary(added), throughput: summary(throughput), cpuRatio: summary(cpuRatio) };
}

function machineSection(data) {
  const { machine, services, libraries } = data;
  const load = (l) => (l ? l.map((x) => x.toFixed(2)).join(' / ') : 'n/a');
  return [
    '## Machine',
    '',
    table(
      ['', ''],
      ['l', 'l'],
      [
        ['CPU', `${machine.cpu}, ${machine.cores} cores`],
        ['Memory', `${machine.memoryGiB} GiB`],
        ['OS', machine.os],
        ['Node.js', machine.node],
        [
          'Strongroom',
          `${machine.strongroom}${machine.commit ? ` (commit ${machine.commit}, dist/ as built)` : ''}`,
        ],
        ['Redis', services.redis.version ?? `skipped: ${services.redis.skipped}`],
        ['PostgreSQL', services.postgres.version ?? `skipped: ${services.postgres.skipped}`],
        ['Load average (1/5/15 min) at start', load(machine.loadAverageAtStart)],
        ['Load average at end', load(machine.loadAverageAtEnd)],
        ['Run', `${data.mode}, ${data.date}, ${Math.round(data.elapsedSeconds)} s`],
      ],
    ),
    '',
    'Libraries (as installed under `bench/node_modules`):',
    '',
    table(
      ['package', 'version'],
      ['l', 'l'],
      Object.entries(libraries).map(([name, version]) => [name, version ?? 'not installed']),
    ),
  ].join('\n');
}

function methodSection(data, aggregated) {
  const o = data.options;
  return [
    '## Method',
    '',
    `- Every variant is a separate server process (\`bench/servers/\`) on 127.0.0.1 with the same two routes. \`GET /me\` returns \`{ userId, profile }\` from the session (401 without one); \`POST /login\` creates a new session holding a user id and the same ~200-byte profile, and answers \`{ ok: true }\`. The bare variants answer the same JSON with no session at all.`,
    `- Load: [autocannon](https://github.com/mcollina/autocannon) in the runner process, ${o.connections} connections, no pipelining. Per variant and round: ${o.pool} sessions are signed in through the server's own \`POST /login\`, then \`GET /me\` runs with requests cycling through their cookies, then \`POST /login\` runs without a cookie (each request is a new visitor signing in). Each route gets ${o.warmupSeconds} s of warm-up (discarded) and ${o.durationSeconds} s measured.`,
    `- ${o.rounds} round${o.rounds > 1 ? 's' : ''}: every variant runs once per round, rounds start at a different variant and alternate direction, so drifts of the machine spread over all variants. Tables give the median across rounds and the min–max range; ratios are computed within a round (a variant against its baseline measured in the same round), then summarised.`,
    '- **Server CPU µs/request**: utime + stime of the server process (all its threads: JS, GC, libuv pool) from `/proc/<pid>/stat`, over the measured window, divided by the responses received in it. This is the figure least disturbed by the load generator sharing the cores; req/s and latency are not (the load generator competes for the same CPUs).',
    '- **Store CPU µs/request**: the same for the store server — the `redis-server` process, or the PostgreSQL backends connected to the benchmark database. Redis is shared with anything else that uses it during the run.',
    '- **Latency**: per response, with sub-millisecond precision, including time queued in the load generator.',
    '- **Errors**: responses outside 2xx/3xx, socket errors and timeouts (10 s), summed over rounds.',
    '- Fairness: each library is configured as its README recommends for a login app (below), cookies over plain HTTP (`secure: false`; Strongroom `cookie.secure: "allow-http-development"`), a 30-minute idle expiry renewed on reads where the library can, regeneration at login where it exists. Strongroom runs with `csrf.protection: "off"` like the others (none of which checks CSRF) except in the row marked *CSRF enforced*. The Strongroom memory store bound is raised to 2 000 000 sessions so that login runs never evict (express-session\'s MemoryStore is unbounded). Redis and PostgreSQL start empty for every variant (the benchmark owns one Redis logical database and one PostgreSQL database).',
    '',
    '### What each variant does',
    '',
    table(
      ['variant', 'GET /me', 'POST /login', 'compared with'],
      ['l', 'l', 'l', 'l'],
      [...aggregated.values()].map(({ variant }) => [
        variant.label,
        variant.me,
        variant.login,
        variant.baseline ? findVariant(variant.baseline).label : '—',
      ]),
    ),
  ].join('\n');
}

function routeSection(route, aggregated) {
  const rows = [...aggregated.values()].map(({ variant, routes }) => {
    const r = routes[route.key];
    return [
      variant.label,
      n0(r.rps.median),
      range(r.rps, n0),
      ms(r.p50.median),
      ms(r.p99.median),
      n1(r.cpu.median),
      range(r.cpu, n1),
      r.storeCpu.n > 0 ? n1(r.storeCpu.median) : '—',
      r.errors + (r.timeouts > 0 ? ` (${r.timeouts} timeouts)` : ''),
    ];
  });
  return [
    `## ${route.title}`,
    '',
    table(
      [
        'variant',
        'req/s',
        'req/s range',
        'p50 ms',
        'p99 ms',
        'server CPU µs/req',
        'CPU range',
        'store CPU µs/req',
        'errors',
      ],
      ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
      rows,
    ),
  ].join('\n');
}

function baselineSection(data, aggregated) {
  const rows = [];
  for (const { variant } of aggregated.values()) {
    if (!variant.baseline || !aggregated.has(variant.baseline)) continue;
    const me = paired(data, variant.id, variant.baseline, 'me');
    const login = paired(data, variant.id, variant.baseline, 'login');
    rows.push([
      variant.label,
      findVariant(variant.baseline).label,
      `${signed(me.added.median)}${me.added.n > 1 ? ` (${signed(me.added.min)} … ${signed(me.added.max)})` : ''}`,
      `${n2(me.throughput.median)}×`,
      `${signed(login.added.median)}${login.added.n > 1 ? ` (${signed(login.added.min)} … ${signed(login.added.max)})` : ''}`,
      `${n2(login.throughput.median)}×`,
    ]);
  }
  return [
    '## Cost over the bare framework (same round)',
    '',
    'Added server CPU per request (µs, median and range across rounds) and throughput as a fraction of the bare framework measured in the same round.',
    '',
    table(
      [
        'variant',
        'baseline',
        'GET /me added CPU µs',
        'GET /me throughput',
        'POST /login added CPU µs',
        'POST /login throughput',
      ],
      ['l', 'l', 'r', 'r', 'r', 'r'],
      rows,
    ),
  ].join('\n');
}

function headToHeadSection(data, aggregated) {
  const rows = [];
  for (const [a, b] of HEAD_TO_HEAD) {
    if (!aggregated.has(a) || !aggregated.has(b)) continue;
    const me = paired(data, a, b, 'me');
    const login = paired(data, a, b, 'login');
    rows.push([
      findVariant(a).label,
      findVariant(b).label,
      `${n2(me.throughput.median)}×`,
      `${n2(me.cpuRatio.median)}×`,
      `${n2(login.throughput.median)}×`,
      `${n2(login.cpuRatio.median)}×`,
    ]);
  }
  if (rows.length === 0) return '';
  return [
    '## Head to head',
    '',
    'Throughput and server CPU per request of the first variant relative to the second (same round; throughput > 1× and CPU < 1× favour the first).',
    '',
    table(
      [
        'variant',
        'against',
        'GET /me throughput',
        'GET /me CPU/req',
        'POST /login throughput',
        'POST /login CPU/req',
      ],
      ['l', 'l', 'r', 'r', 'r', 'r'],
      rows,
    ),
  ].join('\n');
}

function storeSection(data) {
  const { results, skipped } = data.store;
  if (results.length === 0 && skipped.length === 0) return '';
  const ok = results.filter((r) => !r.error);
  const lines = [
    '## Store level',
    '',
    `Strongroom's stores called directly (no HTTP, no manager), each store and size in a fresh process and an empty database. Records are what a real login writes: a ${ok[0]?.sealedLength ?? '~600'}-character sealed payload (the ~200-byte profile, a browser user agent, an IP, the CSRF secret). Sessions are inserted with the store's own \`insert()\` (SQLite: 20 000 per transaction; Redis: 256 in flight), except PostgreSQL, where one \`INSERT … SELECT\` per 100 000 rows fills the store's own tables with the same columns (a million round trips would take minutes) and a read-back through the store checks the layout. \`get\` is \`findByTokenHash\` on ${data.options.lookups.toLocaleString('en-US')} random live sessions, one at a time (a round trip each for Redis and PostgreSQL). Memory per session is the growth of the Node heap (after GC) for the memory store, of \`used_memory\` for Redis, and of the files (SQLite, after a WAL checkpoint) or relations with indexes (PostgreSQL) on disk, divided by the number of sessions.`,
    '',
    table(
      [
        'store',
        'sessions',
        'per session',
        'measured as',
        'insert s',
        'get p50 µs',
        'get p99 µs',
        'get mean µs',
      ],
      ['l', 'r', 'r', 'l', 'r', 'r', 'r', 'r'],
      results.map((r) =>
        r.error
          ? [r.store, n0(r.size), `failed: ${r.error}`, '', '', '', '', '']
          : [
              r.store,
              n0(r.size),
              bytes(r.bytesPerSession),
              r.footprintKind,
              n1(r.insertSeconds),
              n1(r.get.p50Us),
              n1(r.get.p99Us),
              n1(r.get.meanUs),
            ],
      ),
    ),
  ];
  const ops = ok.filter((r) => r.revoke || r.purge);
  if (ops.length > 0) {
    lines.push(
      '',
      `\`deleteByUser\` ("log out everywhere") for a user with ${data.options.revokeSessions.toLocaleString('en-US')} sessions, and \`purgeExpired\` of ${data.options.purge.toLocaleString('en-US')} expired sessions in batches of 500 (as \`manager.purgeExpired()\` does), both among the live sessions above.`,
      '',
      table(
        [
          'store',
          'live sessions',
          'revoke all: sessions',
          'revoke all ms',
          'purge: expired',
          'purged',
          'purge ms',
        ],
        ['l', 'r', 'r', 'r', 'r', 'r', 'r'],
        ops.map((r) => [
          r.store,
          n0(r.size),
          r.revoke ? n0(r.revoke.sessions) : '—',
          r.revoke ? n1(r.revoke.ms) : '—',
          r.purge ? n0(r.purge.expired) : '—',
          r.purge?.error ? `failed: ${r.purge.error}` : r.purge ? n0(r.purge.purged) : '—',
          r.purge ? n0(r.purge.ms) : '—',
        ]),
      ),
    );
    const notes = ok.flatMap((r) => r.notes.map((note) => `- ${r.store} (${n0(r.size)}): ${note}`));
    if (notes.length > 0) lines.push('', ...notes);
  }
  if (skipped.length > 0) {
    lines.push('', ...skipped.map((s) => `- ${s.store}: skipped — ${s.reason}`));
  }
  return lines.join('\n');
}

function noiseSection(data, aggregated) {
  const o = data.options;
  const cores = data.machine.cores;
  const busy = (data.machine.loadAverageAtStart?.[0] ?? 0) > cores * 0.5;
  const rows = [...aggregated.values()].map(({ variant, routes, rounds, failures }) => [
    variant.label,
    `${rounds}${failures.length ? ` (+${failures.length} failed)` : ''}`,
    pct(routes.me.cpu.cv),
    pct(routes.me.rps.cv),
    pct(routes.login.cpu.cv),
    pct(routes.login.rps.cv),
  ]);
  return [
    '## Noise',
    '',
    data.mode === 'quick'
      ? '**Quick mode**: one short round, small stores — a smoke test of the harness, not numbers to quote.'
      : `${o.rounds} rounds of ${o.durationSeconds} s per route and variant.`,
    '',
    busy
      ? `**The machine was busy** (1-minute load average ${data.machine.loadAverageAtStart[0].toFixed(2)} on ${cores} cores at the start): every figure is disturbed, throughput and latency most.`
      : `1-minute load average ${data.machine.loadAverageAtStart?.[0]?.toFixed(2)} on ${cores} cores at the start.`,
    '',
    'Relative standard deviation across rounds (n/a with one round). Server CPU per request is the steadiest figure; throughput moves with whatever else the cores run.',
    '',
    table(
      ['variant', 'rounds', 'GET CPU/req', 'GET req/s', 'POST CPU/req', 'POST req/s'],
      ['l', 'r', 'r', 'r', 'r', 'r'],
      rows,
    ),
  ].join('\n');
}

function skippedSection(data, aggregated) {
  const lines = [];
  const groups = new Map();
  for (const s of data.skipped) groups.set(s.reason, [...(groups.get(s.reason) ?? []), s.label]);
  for (const [reason, labels] of groups) lines.push(`- ${labels.join('; ')}: skipped — ${reason}`);
  for (const { variant, failures } of aggregated.values()) {
    for (const f of failures)
      lines.push(`- ${variant.label}, round ${f.round + 1}: failed — ${f.error}`);
  }
  if (lines.length === 0) return '';
  return ['## Skipped and failed', '', ...lines].join('\n');
}

export function chartRows(aggregated) {
  return [...aggregated.values()].map(({ variant, routes }) => ({
    label: variant.label,
    kind: variant.id.startsWith('bare-')
      ? 'bare'
      : variant.library === 'strongroom'
        ? 'strongroom'
        : 'other',
    me: routes.me.cpu,
    login: routes.login.cpu,
  }));
}

/**
 * Formats generated files as the repository's `prettier --check` expects, with the root's
 * Prettier when it is installed (it is a root devDependency); as they are otherwise.
 */
export async function format(text, path, parser) {
  try {
    const prettier = await import('prettier');
    const config = (await prettier.resolveConfig(path)) ?? {};
    return await prettier.format(text, { ...config, parser });
  } catch {
    return text;
  }
}

export async function writeReport(data, { reportPath, resultsDir }) {
  mkdirSync(resultsDir, { recursive: true });
  mkdirSync(dirname(reportPath), { recursive: true });
  const aggregated = aggregate(data);
  const svgPath = join(resultsDir, 'cpu-per-request.svg');
  const jsonPath = join(resultsDir, 'results.json');
  const written = [];

  if (aggregated.size > 0) {
    writeFileSync(
      svgPath,
      cpuChart(chartRows(aggregated), {
        title: 'Server CPU per request (µs, lower is better)',
        subtitle: `${data.machine.cpu}, ${data.machine.cores} cores, Node ${data.machine.node} — median of ${data.options.rounds} round${data.options.rounds > 1 ? 's' : ''}, whiskers min–max${data.mode === 'quick' ? ' — QUICK MODE' : ''}`,
      }),
    );
    written.push(svgPath);
  }

  const chartLink = relative(dirname(reportPath), svgPath).split('\\').join('/');
  const sections = [
    '# Benchmarks',
    '',
    `<!-- Generated by \`npm run bench\`${data.mode === 'quick' ? ' -- --quick' : ''} (bench/run.mjs). Do not edit: run it again. -->`,
    '',
    `Strongroom next to express-session, @fastify/session, @fastify/secure-session and iron-session: one run on one machine${data.mode === 'quick' ? ' (**quick mode: a smoke test, not numbers to quote**)' : ''}. Regenerate with \`npm run bench\` (about 12 minutes; Redis and PostgreSQL rows need those servers, see \`bench/README.md\`).`,
    '',
    aggregated.size > 0 ? `![Server CPU per request](${chartLink})` : '',
    '',
    ...ROUTES.flatMap((route) =>
      aggregated.size > 0 ? [routeSection(route, aggregated), ''] : [],
    ),
    aggregated.size > 0 ? baselineSection(data, aggregated) : '',
    '',
    headToHeadSection(data, aggregated),
    '',
    storeSection(data),
    '',
    aggregated.size > 0 ? noiseSection(data, aggregated) : '',
    '',
    skippedSection(data, aggregated),
    '',
    machineSection(data),
    '',
    methodSection(data, aggregated),
    '',
  ];
  const markdown = await format(
    sections.join('\n').replace(/\n{3,}/g, '\n\n'),
    reportPath,
    'markdown',
  );
  writeFileSync(reportPath, markdown);
  written.push(reportPath);
  writeFileSync(jsonPath, await format(JSON.stringify(data, null, 2), jsonPath, 'json'));
  written.push(jsonPath);
  return written;
}
