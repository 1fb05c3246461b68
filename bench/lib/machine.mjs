// What the numbers were measured on.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';

const BENCH = fileURLToPath(new URL('../', import.meta.url));
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The libraries whose versions the report lists (as installed under bench/node_modules). */
const LIBRARIES = [
  'express',
  'express-session',
  'connect-redis',
  'redis',
  'connect-pg-simple',
  'pg',
  'fastify',
  '@fastify/cookie',
  '@fastify/session',
  '@fastify/secure-session',
  'iron-session',
  'autocannon',
];

function readJSON(path) {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return null;
  }
}

export function libraryVersions() {
  const versions = {};
  for (const name of LIBRARIES) {
    versions[name] = readJSON(`${BENCH}node_modules/${name}/package.json`)?.version ?? null;
  }
  const sqlite = readJSON(`${ROOT}node_modules/better-sqlite3/package.json`);
  if (sqlite) versions['better-sqlite3 (Strongroom SQLite store)'] = sqlite.version;
  const ioredis = readJSON(`${ROOT}node_modules/ioredis/package.json`);
  if (ioredis) versions['ioredis (root)'] = ioredis.version;
  return versions;
}

export function machineInfo() {
  const cpus = os.cpus();
  let commit = null;
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
      cwd: ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    commit = null;
  }
  return {
    cpu: cpus[0]?.model?.trim() ?? 'unknown',
    cores: cpus.length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    strongroom: readJSON(`${ROOT}package.json`)?.version ?? null,
    commit,
    loadAverageAtStart: os.loadavg(),
  };
}
