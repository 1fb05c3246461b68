#!/usr/bin/env node
// Strongroom's side-by-side benchmark. From the repository root:
//
//   npm run bench                 full run (~12 min): BENCHMARKS.md + bench/results/
//   npm run bench -- --quick      quick run (<2 min): bench/results/quick/ (not committed)
//   node bench/run.mjs --profile strongroom-express-memory [--route me|login]
//                                 one server under --cpu-prof, top functions printed
//   node bench/run.mjs --help
//
// See bench/README.md for what is measured and how.
import { fork } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve as resolvePath } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { getMe, loginHeaders, loginPool, measureRoute, startServer } from './lib/http-bench.mjs';
import { libraryVersions, machineInfo } from './lib/machine.mjs';
import { procAvailable } from './lib/proc.mjs';
import { profileMarkdown, summarizeProfile } from './lib/profile.mjs';
import { format, writeReport } from './lib/report.mjs';
import { probePostgres, probeRedis } from './lib/services.mjs';
import { findVariant, VARIANTS } from './lib/variants.mjs';
import { hasStrongroomModule, STRONGROOM_MODULES } from './servers/strongroom.mjs';

const BENCH = fileURLToPath(new URL('./', import.meta.url));
const ROOT = fileURLToPath(new URL('../', import.meta.url));

const PROFILE_INTERVAL_US = 250;

const MODES = {
  full: {
    rounds: 3,
    warmupSeconds: 1,
    durationSeconds: 4,
    connections: 10,
    pool: 64,
    sizes: [10_000, 100_000, 1_000_000],
    lookups: 5_000,
    revokeSessions: 1_000,
    purge: 100_000,
    purgeAtSize: 100_000,
  },
  quick: {
    rounds: 1,
    warmupSeconds: 0.5,
    durationSeconds: 1.5,
    connections: 10,
    pool: 32,
    sizes: [10_000],
    lookups: 2_000,
    revokeSessions: 1_000,
    purge: 10_000,
    purgeAtSize: 10_000,
  },
};

const HELP = `Usage: node bench/run.mjs [options]

  --quick                 short run: 1 round, 1.5 s per measurement, 10 000 sessions per store
  --rounds N              rounds of every variant (interleaved)            [full: 3]
  --duration S            measured seconds per route                        [full: 4]
  --warmup S              discarded warm-up seconds per route              [full: 1]
  --connections N         autocannon connections                           [10]
  --sizes A,B,C           store-level session counts          [10000,100000,1000000]
  --only A,B              only variants whose id contains one of these (baselines added)
  --skip-http             skip the HTTP benchmark
  --skip-store            skip the store-level benchmark
  --output FILE           report path (chart and JSON beside it)
                          [full: BENCHMARKS.md + bench/results/; quick, --only, --skip-*:
                          bench/results/quick|partial/]
  --profile VARIANT       run VARIANT alone under --cpu-prof and print its top functions
  --route me|login        route to profile                                  [me]
  --list                  list the variants and exit

Environment: BENCH_REDIS_URL (redis://127.0.0.1:6379/9), BENCH_PG_URL
(postgres://postgres@127.0.0.1:5432/test, used to create BENCH_PG_DATABASE=strongroom_bench).`;

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    rounds: { type: 'string' },
    duration: { type: 'string' },
    warmup: { type: 'string' },
    connections: { type: 'string' },
    sizes: { type: 'string' },
    only: { type: 'string' },
    'skip-http': { type: 'boolean', default: false },
    'skip-store': { type: 'boolean', default: false },
    output: { type: 'string' },
    profile: { type: 'string' },
    route: { type: 'string', default: 'me' },
    list: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
  strict: true,
});

if (args.help) {
  console.log(HELP);
  process.exit(0);
}
if (args.list) {
  for (const v of VARIANTS) console.log(`${v.id.padEnd(34)} ${v.label}`);
  process.exit(0);
}

const mode = args.quick ? 'quick' : 'full';
const options = { ...MODES[mode] };
const number = (value, name) => {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name}: expected a positive number`);
  return n;
};
if (args.rounds) options.rounds = Math.round(number(args.rounds, 'rounds'));
if (args.duration) options.durationSeconds = number(args.duration, 'duration');
if (args.warmup !== undefined) options.warmupSeconds = Number(args.warmup);
if (args.connections) options.connections = Math.round(number(args.connections, 'connections'));
if (args.sizes) options.sizes = args.sizes.split(',').map((s) => Math.round(number(s, 'sizes')));

// A full run writes the committed report (BENCHMARKS.md, bench/results/); quick and partial
// runs (--only, --skip-*) write under bench/results/quick|partial/ (git-ignored), and --output
// puts the report, the chart and the JSON together wherever it says.
const partial = Boolean(args.only || args['skip-http'] || args['skip-store']);
const flavour = mode === 'quick' ? 'quick' : partial ? 'partial' : '';
const reportPath = args.output
  ? resolvePath(args.output)
  : flavour
    ? join(BENCH, 'results', flavour, 'BENCHMARKS.md')
    : join(ROOT, 'BENCHMARKS.md');
const resultsDir = args.output ? dirname(reportPath) : join(BENCH, 'results', flavour);

/** The server currently running, stopped on Ctrl-C. */
let current = null;
process.on('SIGINT', async () => {
  console.error('\ninterrupted');
  await current?.stop(2_000);
  process.exit(130);
});

const log = (line = '') => console.log(line);
const fmt = (value, digits = 1) =>
  value === null || value === undefined || !Number.isFinite(value) ? 'n/a' : value.toFixed(digits);

function checkBuild() {
  if (!hasStrongroomModule('core')) {
    console.error('dist/ is missing: run `npm run build` at the repository root first.');
    process.exit(1);
  }
  if (!procAvailable()) {
    console.error('/proc is not readable: server CPU per request cannot be measured (Linux only).');
    process.exit(1);
  }
}

async function probeServices() {
  const [redis, postgres] = await Promise.all([probeRedis(), probePostgres()]);
  if (!redis.available) log(`note: ${redis.note}; Redis rows are skipped.`);
  if (!postgres.available) log(`note: ${postgres.note}; PostgreSQL rows are skipped.`);
  return { redis, postgres };
}

function groupByReason(skipped) {
  const groups = new Map();
  for (const { id, reason } of skipped) groups.set(reason, [...(groups.get(reason) ?? []), id]);
  return groups;
}

/** Why a variant cannot run here, or null. */
function unavailable(variant, services) {
  if (!existsSync(join(BENCH, 'servers', variant.server))) {
    return `bench/servers/${variant.server} is not written yet`;
  }
  for (const module of variant.modules) {
    if (!hasStrongroomModule(module)) {
      return `dist/src/${STRONGROOM_MODULES[module]} does not exist (not implemented or not built)`;
    }
  }
  for (const service of variant.services) {
    if (!services[service].available) return services[service].note;
  }
  return null;
}

function selectVariants(services) {
  let chosen = VARIANTS;
  if (args.only) {
    const wanted = args.only
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    const ids = new Set(
      VARIANTS.filter((v) => wanted.some((w) => v.id.includes(w))).map((v) => v.id),
    );
    for (const id of [...ids]) {
      const baseline = findVariant(id).baseline;
      if (baseline) ids.add(baseline);
    }
    chosen = VARIANTS.filter((v) => ids.has(v.id));
  }
  const runnable = [];
  const skipped = [];
  for (const variant of chosen) {
    const reason = unavailable(variant, services);
    if (reason) skipped.push({ id: variant.id, label: variant.label, reason });
    else runnable.push(variant);
  }
  return { runnable, skipped };
}

/** Fresh state for a variant: empty Redis database, no tables, a new SQLite file. */
async function prepareState(variant, services, tmp) {
  if (variant.services.includes('redis')) await services.redis.flush();
  if (variant.services.includes('postgres')) await services.postgres.reset();
  const sqlitePath = join(tmp, `${variant.id}.db`);
  for (const suffix of ['', '-wal', '-shm']) rmSync(`${sqlitePath}${suffix}`, { force: true });
  return {
    BENCH_REDIS_URL: services.redis.url ?? '',
    BENCH_PG_URL: services.postgres.available
      ? services.postgres.benchUrl('strongroom-bench-server')
      : '',
    BENCH_SQLITE_PATH: sqlitePath,
    ...variant.env,
  };
}

function storePidsFor(variant, services) {
  return async () => {
    const pids = [];
    if (variant.services.includes('redis') && services.redis.pid) pids.push(services.redis.pid);
    if (variant.services.includes('postgres'))
      pids.push(...(await services.postgres.backendPids()));
    return pids;
  };
}

/** One variant, one round: start, sign in the pool, measure GET /me then POST /login, stop. */
async function runVariant(variant, services, tmp, execArgv = []) {
  const env = await prepareState(variant, services, tmp);
  const server = await startServer(variant.server, { env, execArgv });
  current = server;
  try {
    const headers = await loginHeaders(server.port, variant);
    const cookies = await loginPool(server.port, options.pool, headers);
    const check = await getMe(server.port, variant.id.startsWith('bare-') ? '' : cookies[0]);
    if (check.status !== 200 || !check.body.includes('Ada Lovelace')) {
      throw new Error(
        `GET /me with a pool cookie answered ${check.status}: ${check.body.slice(0, 200)}`,
      );
    }
    const storePids = storePidsFor(variant, services);
    const me = await measureRoute({ server, route: 'me', cookies, options, storePids });
    const login = await measureRoute({
      server,
      route: 'login',
      cookies,
      headers,
      options,
      storePids,
    });
    return { me, login };
  } catch (error) {
    error.message += `\n--- server output ---\n${server.output()}`;
    throw error;
  } finally {
    await server.stop();
    current = null;
  }
}

async function httpPhase(services, runnable) {
  const tmp = mkdtempSync(join(os.tmpdir(), 'strongroom-bench-'));
  const runs = [];
  try {
    for (let round = 0; round < options.rounds; round++) {
      // Interleave: every variant once per round, each round starting at a different place
      // (and every other round backwards), so slow drifts in the machine spread evenly.
      const shift =
        (round * Math.max(1, Math.floor(runnable.length / options.rounds))) % runnable.length;
      let order = [...runnable.slice(shift), ...runnable.slice(0, shift)];
      if (round % 2 === 1) order = order.reverse();
      log(`\nround ${round + 1}/${options.rounds}`);
      for (const variant of order) {
        try {
          const result = await runVariant(variant, services, tmp);
          runs.push({ variant: variant.id, round, ...result });
          log(
            `  ${variant.id.padEnd(34)} GET ${fmt(result.me.rps, 0).padStart(6)} req/s ${fmt(result.me.serverCpuUsPerReq).padStart(6)} µs` +
              `   POST ${fmt(result.login.rps, 0).padStart(6)} req/s ${fmt(result.login.serverCpuUsPerReq).padStart(6)} µs` +
              (result.me.errors + result.login.errors > 0
                ? `   errors ${result.me.errors}/${result.login.errors}`
                : ''),
          );
        } catch (error) {
          runs.push({ variant: variant.id, round, error: error.message.split('\n')[0] });
          log(`  ${variant.id.padEnd(34)} FAILED: ${error.message}`);
        }
      }
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
    if (services.redis.available) await services.redis.flush();
    if (services.postgres.available) await services.postgres.reset();
  }
  return runs;
}

function storeChild(input, { heapMiB, timeoutMs }) {
  return new Promise((resolve) => {
    const child = fork(join(BENCH, 'store-bench.mjs'), [JSON.stringify(input)], {
      execArgv: ['--expose-gc', `--max-old-space-size=${heapMiB}`],
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      env: { ...process.env, NODE_ENV: 'production' },
    });
    let output = '';
    const keep = (chunk) => {
      output = (output + chunk).slice(-4000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    let result = null;
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('message', (message) => {
      if (message?.type === 'result') result = message.result;
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (result) resolve(result);
      else {
        const reason =
          signal === 'SIGKILL'
            ? `timed out after ${timeoutMs / 1000} s`
            : `exited ${code ?? signal}: ${output.split('\n').find((line) => /Error|error/.test(line)) ?? output.slice(-300)}`;
        resolve({ store: input.store, size: input.size, error: reason });
      }
    });
  });
}

async function storePhase(services) {
  const stores = [
    { store: 'memory', module: 'store:memory' },
    { store: 'sqlite', module: 'store:sqlite' },
    { store: 'redis', module: 'store:redis', service: 'redis' },
    { store: 'postgres', module: 'store:postgres', service: 'postgres' },
  ];
  const results = [];
  const skipped = [];
  // Revoke-all and purge run once per store, at the size closest to purgeAtSize.
  const distance = (size) => Math.abs(Math.log(size / options.purgeAtSize));
  const purgeSize = options.sizes.reduce((best, size) =>
    distance(size) < distance(best) ? size : best,
  );
  log('\nstore level');
  for (const { store, module, service } of stores) {
    if (!hasStrongroomModule(module)) {
      skipped.push({
        store,
        reason: `dist/src/${STRONGROOM_MODULES[module]} does not exist (not implemented or not built)`,
      });
      log(`  ${store.padEnd(9)} skipped: ${skipped.at(-1).reason}`);
      continue;
    }
    if (service && !services[service].available) {
      skipped.push({ store, reason: services[service].note });
      log(`  ${store.padEnd(9)} skipped: ${services[service].note}`);
      continue;
    }
    for (const size of options.sizes) {
      if (store === 'redis') await services.redis.flush();
      if (store === 'postgres') await services.postgres.reset();
      const atPurgeSize = size === purgeSize;
      const input = {
        store,
        size,
        lookups: options.lookups,
        revokeSessions: atPurgeSize ? options.revokeSessions : 0,
        purge: atPurgeSize ? options.purge : 0,
        env: {
          BENCH_REDIS_URL: services.redis.url ?? '',
          BENCH_PG_URL: services.postgres.available
            ? services.postgres.benchUrl('strongroom-bench-store')
            : '',
        },
      };
      const heapMiB = Math.max(2048, Math.ceil((size * 3000) / 2 ** 20) + 1024);
      const timeoutMs = Math.max(60_000, size * 0.3);
      const started = Date.now();
      const result = await storeChild(input, { heapMiB, timeoutMs });
      results.push(result);
      const took = ((Date.now() - started) / 1000).toFixed(1);
      if (result.error)
        log(`  ${store.padEnd(9)} ${String(size).padStart(8)}  FAILED: ${result.error}`);
      else
        log(
          `  ${store.padEnd(9)} ${String(size).padStart(8)}  ${fmt(result.bytesPerSession, 0).padStart(6)} B/session` +
            `  get p50 ${fmt(result.get.p50Us)} µs p99 ${fmt(result.get.p99Us)} µs` +
            (result.revoke
              ? `  revoke ${result.revoke.sessions} in ${fmt(result.revoke.ms)} ms`
              : '') +
            (result.purge
              ? `  purge ${result.purge.purged ?? 'n/a'} in ${fmt(result.purge.ms, 0)} ms`
              : '') +
            `  (${took} s)`,
        );
    }
  }
  if (services.redis.available) await services.redis.flush();
  if (services.postgres.available) await services.postgres.reset();
  return { results, skipped };
}

async function profileMode(services) {
  const variant = findVariant(args.profile);
  if (!variant) {
    console.error(`Unknown variant "${args.profile}"; see --list.`);
    process.exit(1);
  }
  const reason = unavailable(variant, services);
  if (reason) {
    console.error(`${variant.id} cannot run: ${reason}`);
    process.exit(1);
  }
  const route = args.route === 'login' ? 'login' : 'me';
  const dir = join(BENCH, 'results', 'profiles');
  mkdirSync(dir, { recursive: true });
  const name = `${variant.id}-${route}`;
  const file = join(dir, `${name}.cpuprofile`);
  rmSync(file, { force: true });
  options.durationSeconds = args.duration ? Number(args.duration) : 10;
  options.warmupSeconds = args.warmup !== undefined ? Number(args.warmup) : 2;
  const tmp = mkdtempSync(join(os.tmpdir(), 'strongroom-bench-'));
  log(
    `profiling ${variant.id} ${route === 'me' ? 'GET /me' : 'POST /login'} for ${options.durationSeconds} s (after ${options.warmupSeconds} s warm-up)`,
  );
  const env = await prepareState(variant, services, tmp);
  const server = await startServer(variant.server, {
    env,
    execArgv: [
      '--cpu-prof',
      '--cpu-prof-dir',
      dir,
      '--cpu-prof-name',
      `${name}.cpuprofile`,
      '--cpu-prof-interval',
      String(PROFILE_INTERVAL_US),
    ],
  });
  current = server;
  let measured;
  try {
    const headers = await loginHeaders(server.port, variant);
    const cookies = await loginPool(server.port, options.pool, headers);
    measured = await measureRoute({
      server,
      route,
      cookies,
      headers,
      options,
      storePids: storePidsFor(variant, services),
    });
  } finally {
    await server.stop(30_000);
    current = null;
    rmSync(tmp, { recursive: true, force: true });
  }
  const summary = summarizeProfile(file, { top: 25 });
  const intro =
    `Measured window: ${fmt(measured.rps, 0)} req/s, server CPU ${fmt(measured.serverCpuUsPerReq)} µs/request ` +
    `with the profiler on (sampling every ${PROFILE_INTERVAL_US} µs adds overhead: compare shares, not absolute µs, ` +
    `with the benchmark's figures). The profile covers the whole process life: start-up, the ` +
    `${options.pool}-session login pool, warm-up and the measured window; µs/request columns apply each share to the ` +
    `measured CPU per request.`;
  const markdown = profileMarkdown(summary, {
    title: `CPU profile: ${variant.label}, ${route === 'me' ? 'GET /me' : 'POST /login'}`,
    intro,
    cpuUsPerRequest: measured.serverCpuUsPerReq,
  });
  writeFileSync(
    join(dir, `${name}.md`),
    await format(markdown, join(dir, `${name}.md`), 'markdown'),
  );
  log(`\n${markdown}`);
  log(`profile: ${file} (open in Chrome DevTools › Performance, or speedscope)`);
}

async function main() {
  checkBuild();
  const started = Date.now();
  const machine = machineInfo();
  log(
    `Strongroom bench (${mode}) on ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}; load average ${machine.loadAverageAtStart.map((l) => l.toFixed(2)).join(' ')}`,
  );
  const services = await probeServices();
  try {
    if (args.profile) {
      await profileMode(services);
      return;
    }
    const { runnable, skipped } = selectVariants(services);
    const http = !args['skip-http'] && runnable.length > 0;
    if (http) {
      for (const [reason, ids] of groupByReason(skipped)) log(`skip ${ids.join(', ')}: ${reason}`);
    }
    const runs = http ? await httpPhase(services, runnable) : [];
    const store = args['skip-store'] ? { results: [], skipped: [] } : await storePhase(services);
    machine.loadAverageAtEnd = os.loadavg();
    const elapsedSeconds = (Date.now() - started) / 1000;
    mkdirSync(resultsDir, { recursive: true });
    const data = {
      mode,
      date: new Date().toISOString(),
      elapsedSeconds,
      options,
      machine,
      services: {
        redis: services.redis.available
          ? { version: services.redis.version, url: services.redis.url }
          : { skipped: services.redis.note },
        postgres: services.postgres.available
          ? { version: services.postgres.version, database: services.postgres.database }
          : { skipped: services.postgres.note },
      },
      libraries: libraryVersions(),
      variants: http ? runnable.map(({ id }) => id) : [],
      skipped: http ? skipped : [],
      runs,
      store,
    };
    const written = await writeReport(data, { reportPath, resultsDir });
    log(
      `\ndone in ${elapsedSeconds.toFixed(0)} s; wrote ${written.map((p) => p.replace(ROOT, '')).join(', ')}`,
    );
  } finally {
    await services.redis.close?.();
    await services.postgres.close?.();
  }
}

main().catch(async (error) => {
  console.error(error);
  await current?.stop(2_000);
  process.exit(1);
});
