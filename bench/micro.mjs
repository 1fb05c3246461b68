// In-process micro-benchmark of Strongroom's core, without HTTP or a framework: the cost the
// adapters add on top of the framework, measured steadily enough to compare two builds.
//
//   npm run build --silent && node bench/micro.mjs [--store memory|sqlite] [--seconds 2]
//
// GET /me path:  manager.load() of a signed-in session's cookie + session.get('profile').
// login path:    manager.load() of a visitor + session.login(id, { data: { profile } }).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { PROFILE } from './servers/common.mjs';
import { createBenchManager, openStrongroomStore } from './servers/strongroom.mjs';

const { values: args } = parseArgs({
  options: {
    store: { type: 'string', default: 'memory' },
    seconds: { type: 'string', default: '2' },
  },
});
const seconds = Number(args.seconds);
process.removeAllListeners('warning');

const tmp = mkdtempSync(join(tmpdir(), 'strongroom-micro-'));
const store = await openStrongroomStore(args.store, { BENCH_SQLITE_PATH: join(tmp, 's.db') });
const manager = await createBenchManager(store, {});

const request = (method, cookieHeader) => ({
  method,
  cookieHeader,
  secure: false,
  ip: '127.0.0.1',
  userAgent: 'bench',
});
const sink = {
  cookies: [],
  setCookie(_name, header) {
    this.cookies.push(header);
  },
};

async function login(n) {
  sink.cookies = [];
  const session = await manager.load(request('POST', undefined), sink);
  await session.login(`user-${n}`, { data: { profile: PROFILE } });
  return sink.cookies.at(-1).split(';', 1)[0];
}

const cookies = [];
for (let i = 0; i < 64; i++) cookies.push(await login(i));

async function measure(name, op) {
  const warmUntil = performance.now() + 500;
  let i = 0;
  while (performance.now() < warmUntil) await op(i++);
  const cpu = process.cpuUsage();
  const start = performance.now();
  const end = start + seconds * 1000;
  let count = 0;
  while (performance.now() < end) {
    for (let k = 0; k < 100; k++) await op(count++);
  }
  const elapsed = performance.now() - start;
  const used = process.cpuUsage(cpu);
  console.log(
    `${name.padEnd(8)} ${(count / (elapsed / 1000)).toFixed(0).padStart(8)} ops/s  ` +
      `${((elapsed * 1000) / count).toFixed(2).padStart(7)} µs/op wall  ` +
      `${((used.user + used.system) / count).toFixed(2).padStart(7)} µs/op CPU`,
  );
}

console.log(`Strongroom core, ${args.store} store, Node ${process.version}`);
await measure('GET /me', async (i) => {
  const session = await manager.load(request('GET', cookies[i & 63]), sink);
  if (session.get('profile') === undefined) throw new Error('no session');
});
await measure('login', async (i) => {
  await login(i);
});
await store.close();
rmSync(tmp, { recursive: true, force: true });
