// Starts one benchmark server as a child process and drives it with autocannon, measuring the
// server's own CPU time from /proc over exactly the measured window.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { cpuSnapshot } from './proc.mjs';

const SERVERS = fileURLToPath(new URL('../servers/', import.meta.url));

/** Spawns `bench/servers/<file>` and resolves once it listens. */
export function startServer(file, { env = {}, execArgv = [], timeoutMs = 20_000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = fork(`${SERVERS}${file}`, [], {
      env: { ...process.env, PORT: '0', NODE_ENV: 'production', ...env },
      execArgv,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    let output = '';
    const keep = (chunk) => {
      output = (output + chunk).slice(-4000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${file} did not start within ${timeoutMs} ms\n${output}`));
    }, timeoutMs);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${file} exited (${signal ?? code}) before listening\n${output}`));
    });
    child.on('message', (message) => {
      if (message?.type !== 'ready') return;
      clearTimeout(timer);
      child.removeAllListeners('exit');
      resolve({
        pid: child.pid,
        port: message.port,
        output: () => output,
        alive: () => child.exitCode === null && child.signalCode === null,
        /** Asks the server to close and exit (so --cpu-prof can write), then makes sure. */
        stop(graceMs = 10_000) {
          return new Promise((done) => {
            if (child.exitCode !== null || child.signalCode !== null) return done();
            const kill = setTimeout(() => child.kill('SIGKILL'), graceMs);
            child.once('exit', () => {
              clearTimeout(kill);
              done();
            });
            if (child.connected) child.send({ type: 'stop' });
            else child.kill('SIGTERM');
          });
        },
      });
    });
  });
}

/** `name=value` pairs of a response's Set-Cookie headers, deletions (empty values) left out. */
function cookiePairs(response) {
  return response.headers
    .getSetCookie()
    .map((header) => header.split(';', 1)[0])
    .filter((pair) => pair.indexOf('=') > 0 && pair.indexOf('=') < pair.length - 1)
    .join('; ');
}

/**
 * The headers a browser's same-origin form post would carry for a CSRF-checking variant: the
 * pre-session CSRF cookie and a masked token from GET /csrf, and `Sec-Fetch-Site`. None for
 * the others.
 */
export async function loginHeaders(port, variant) {
  if (!variant.csrf) return {};
  const response = await fetch(`http://127.0.0.1:${port}/csrf`);
  const { token } = await response.json();
  return { cookie: cookiePairs(response), 'x-csrf-token': token, 'sec-fetch-site': 'same-origin' };
}

/**
 * Signs in `count` sessions through the server's own POST /login and returns their cookies
 * (`name=value; name=value`).
 */
export async function loginPool(port, count, headers = {}) {
  const cookies = [];
  for (let i = 0; i < count; i++) {
    const response = await fetch(`http://127.0.0.1:${port}/login`, { method: 'POST', headers });
    await response.arrayBuffer();
    if (response.status !== 200) throw new Error(`POST /login answered ${response.status}`);
    cookies.push(cookiePairs(response));
  }
  return cookies;
}

/** GET /me with `cookie`: status and body, to check the pool before measuring. */
export async function getMe(port, cookie) {
  const response = await fetch(`http://127.0.0.1:${port}/me`, {
    headers: cookie ? { cookie } : {},
  });
  return { status: response.status, body: await response.text() };
}

/**
 * One autocannon run. GET /me requests cycle through the cookie pool (each a pre-built request,
 * so the load generator does no per-request work); POST /login requests carry no cookie.
 * Latencies are recorded per response in milliseconds with sub-millisecond precision
 * (autocannon's own histogram keeps whole milliseconds only).
 */
export function drive({ port, route, cookies, headers = {}, connections, durationSeconds }) {
  const requests =
    route === 'me'
      ? (cookies.length > 0 ? cookies : ['']).map((cookie) => ({
          method: 'GET',
          path: '/me',
          headers: cookie ? { cookie } : {},
        }))
      : [{ method: 'POST', path: '/login', headers }];
  return new Promise((resolve, reject) => {
    const latencies = [];
    let bad = 0;
    let good = 0;
    const started = process.hrtime.bigint();
    const instance = autocannon(
      {
        url: `http://127.0.0.1:${port}`,
        connections,
        pipelining: 1,
        // autocannon checks its stop flag once per sample interval (1 s by default).
        sampleInt: 100,
        duration: durationSeconds,
        timeout: 10,
        requests,
      },
      (error, result) => {
        if (error) return reject(error);
        const elapsedSeconds = Number(process.hrtime.bigint() - started) / 1e9;
        resolve({ result, latencies, good, bad, elapsedSeconds });
      },
    );
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      if (statusCode >= 200 && statusCode < 400) {
        good++;
        latencies.push(responseTime);
      } else bad++;
    });
  });
}

/**
 * Warm-up (discarded), then the measured run with CPU snapshots of the server and of the
 * store-server processes (`storePids()` is called after the warm-up, when pools are open).
 */
export async function measureRoute({ server, route, cookies, headers, options, storePids }) {
  if (options.warmupSeconds > 0) {
    await drive({
      port: server.port,
      route,
      cookies,
      headers,
      connections: options.connections,
      durationSeconds: options.warmupSeconds,
    });
  }
  const pids = await storePids();
  const serverCpu = cpuSnapshot([server.pid]);
  const storeCpu = cpuSnapshot(pids);
  const run = await drive({
    port: server.port,
    route,
    cookies,
    headers,
    connections: options.connections,
    durationSeconds: options.durationSeconds,
  });
  const serverMicros = serverCpu.since();
  const storeMicros = storeCpu.since();
  const completed = run.good + run.bad;
  const sorted = Float64Array.from(run.latencies).sort();
  return {
    requests: completed,
    ok: run.good,
    rps: completed / run.elapsedSeconds,
    p50Ms: percentile(sorted, 0.5),
    p99Ms: percentile(sorted, 0.99),
    serverCpuUsPerReq: serverMicros === null || completed === 0 ? null : serverMicros / completed,
    serverCpuShare: serverMicros === null ? null : serverMicros / 1e6 / run.elapsedSeconds,
    storeCpuUsPerReq:
      storeMicros === null || completed === 0 || pids.length === 0 ? null : storeMicros / completed,
    storePids: pids.length,
    errors: run.bad + run.result.errors, // bad status + socket errors + timeouts
    timeouts: run.result.timeouts,
    badStatus: run.bad,
    elapsedSeconds: run.elapsedSeconds,
  };
}

function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}
