/**
 * Vitest global setup: the local Redis Cluster (127.0.0.1:7001-7003) that the cluster store
 * contract and the every-store suites run against, so that `npm test` needs no `.ci/run` for it.
 *
 * - Nothing answers on 7001 and `redis-server` is installed: `bash scripts/redis-cluster.sh
 *   start`. At teardown, the last test run still using that cluster stops it.
 * - Something answers on 7001: it is used as it is. It is stopped at teardown only if it is
 *   still the very cluster a test run started (the node on 7001 has the pid recorded then), so
 *   a cluster started by hand or by a CI script is never stopped.
 * - Nothing answers, and no `redis-server`: nothing to do. The cluster's tests skip, or fail
 *   under `CI=true` (test/support/services.ts).
 *
 * Test runs sharing the cluster register as `<cluster dir>.users/<pid>`, next to the
 * `started-by-tests` record of that pid, so that one run never stops it under another.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { probe } from '../support/services.js';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SCRIPT = join(ROOT, 'scripts/redis-cluster.sh');
const FIRST_PORT = 7001;
/** The script's own default; `STRONGROOM_REDIS_CLUSTER_DIR` moves both. */
const CLUSTER_DIR = process.env.STRONGROOM_REDIS_CLUSTER_DIR ?? '/tmp/strongroom-redis-cluster';
const USERS_DIR = `${CLUSTER_DIR}.users`;
const SCRIPT_TIMEOUT_MS = 90_000;

function installed(command: string): boolean {
  return spawnSync(command, ['--version'], { stdio: 'ignore' }).status === 0;
}

function runScript(action: 'start' | 'stop'): { ok: boolean; output: string } {
  const result = spawnSync('bash', [SCRIPT, action], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: SCRIPT_TIMEOUT_MS,
  });
  const output = `${result.stdout ?? ''}${result.stderr ?? ''}${result.error?.message ?? ''}`;
  return { ok: result.status === 0, output: output.trim() };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: alive, but another user's.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function otherLiveUsers(): number[] {
  let entries: string[];
  try {
    entries = readdirSync(USERS_DIR);
  } catch {
    return [];
  }
  return entries
    .filter((entry) => /^\d+$/.test(entry))
    .map(Number)
    .filter((pid) => pid !== process.pid && isAlive(pid));
}

function readTrimmed(path: string): string | null {
  try {
    return readFileSync(path, 'utf8').trim() || null;
  } catch {
    return null;
  }
}

/** The pid of the node on 7001, as the script records it. */
const nodePid = (): string | null =>
  readTrimmed(join(CLUSTER_DIR, String(FIRST_PORT), 'redis.pid'));

export default async function setup(): Promise<(() => void) | undefined> {
  const marker = join(USERS_DIR, 'started-by-tests');
  if (!(await probe(FIRST_PORT))) {
    if (!installed('redis-server') || !installed('redis-cli')) return undefined;
    const { ok, output } = runScript('start');
    if (!ok) {
      const message = `Could not start the local Redis Cluster (bash scripts/redis-cluster.sh start):\n${output}`;
      if (process.env.CI === 'true') throw new Error(message);
      console.warn(`[skip] ${message}`);
      return undefined;
    }
    mkdirSync(USERS_DIR, { recursive: true });
    // Another run may have started it while this one waited for the script's lock.
    if (!/already up/.test(output)) writeFileSync(marker, nodePid() ?? '');
  }

  const me = join(USERS_DIR, String(process.pid));
  mkdirSync(USERS_DIR, { recursive: true });
  writeFileSync(me, '');

  return () => {
    rmSync(me, { force: true });
    const startedByTests = readTrimmed(marker);
    if (startedByTests === null || startedByTests !== nodePid()) return;
    if (otherLiveUsers().length > 0) return;
    rmSync(marker, { force: true });
    const { ok, output } = runScript('stop');
    if (!ok) console.warn(`Could not stop the local Redis Cluster:\n${output}`);
  };
}
