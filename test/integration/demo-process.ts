import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DemoServer } from './demo-helpers.js';

/** The demo as `npm start` runs it: `node dist/demo/server.js` in its own process. */
export interface DemoProcess {
  readonly child: ChildProcess;
  /** For {@link Browser} and {@link send}: plain http on 127.0.0.1. */
  readonly server: DemoServer;
  /** Everything the process printed so far. */
  output(): string;
  /** SIGTERM, then resolves once the process has exited. */
  stop(): Promise<void>;
}

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SERVER = join(ROOT, 'dist/demo/server.js');

/** The newest modification time of a `.ts` file under `dir`. */
function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && entry.name.endsWith('.ts')) {
      newest = Math.max(newest, statSync(join(entry.parentPath, entry.name)).mtimeMs);
    }
  }
  return newest;
}

/**
 * Builds `dist/` when it is missing or older than the sources, so a bare `vitest run` tests the
 * code in the tree rather than a stale build. Type errors elsewhere (tsc still emits) are
 * `npm run typecheck`'s to report, not this helper's.
 */
export function buildDemo(): void {
  const built = existsSync(SERVER) ? statSync(SERVER).mtimeMs : 0;
  const sources = Math.max(newestSource(join(ROOT, 'src')), newestSource(join(ROOT, 'demo')));
  if (built >= sources) return;
  const result = spawnSync('npx', ['tsc', '-p', 'tsconfig.build.json'], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  if (!existsSync(SERVER)) throw new Error(`the demo did not build:\n${result.stdout}`);
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * Starts the built demo with `env` on a free port and resolves once it listens. The process
 * gets umask 022, the common default, so file modes come from the demo and not from the
 * environment the tests happen to run in.
 */
export async function spawnDemo(env: Record<string, string>): Promise<DemoProcess> {
  const port = await freePort();
  const child = spawn('/bin/sh', ['-c', 'umask 022 && exec "$0" "$@"', process.execPath, SERVER], {
    cwd: ROOT,
    env: { ...process.env, ...env, HOST: '127.0.0.1', PORT: String(port), NODE_NO_WARNINGS: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      if (output.includes('Strongroom demo on')) resolve();
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => reject(new Error(`demo exited with ${code}:\n${output}`)));
  });
  const server = { base: `http://127.0.0.1:${port}`, port, https: false, cookieName: 'sid' };
  return {
    child,
    server: server as DemoServer,
    output: () => output,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
