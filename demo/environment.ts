import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DemoOptions, TrustProxy } from './demo-options.js';

/** A problem with the environment: printed without a stack trace, exit code 1. */
export class StartupError extends Error {}

/** The timing knobs of DEMO-CONTRACT.md, each set only when its variable is. */
export type DemoTiming = Pick<
  DemoOptions,
  | 'idleTimeoutSeconds'
  | 'absoluteTimeoutSeconds'
  | 'rotationIntervalSeconds'
  | 'rotationGraceSeconds'
  | 'freshAgeSeconds'
>;

const TIMING_VARIABLES = [
  ['idleTimeoutSeconds', 'STRONGROOM_IDLE_TIMEOUT'],
  ['absoluteTimeoutSeconds', 'STRONGROOM_ABSOLUTE_TIMEOUT'],
  ['rotationIntervalSeconds', 'STRONGROOM_ROTATION_INTERVAL'],
  ['rotationGraceSeconds', 'STRONGROOM_ROTATION_GRACE'],
  ['freshAgeSeconds', 'STRONGROOM_FRESH_AGE'],
] as const satisfies readonly (readonly [keyof DemoTiming, string])[];

/** The project root: the nearest directory above this file with a package.json. */
export function findProjectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) return process.cwd();
    dir = parent;
  }
}

function seconds(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return undefined;
  if (!/^\d{1,9}$/.test(raw.trim())) {
    throw new StartupError(`${name} must be a whole number of seconds, got ${JSON.stringify(raw)}`);
  }
  return Number(raw.trim());
}

/** `STRONGROOM_IDLE_TIMEOUT` and the other knobs, in seconds; unset ones keep the defaults. */
export function timingFromEnvironment(env: NodeJS.ProcessEnv): DemoTiming {
  const timing: { -readonly [K in keyof DemoTiming]: DemoTiming[K] } = {};
  for (const [option, name] of TIMING_VARIABLES) {
    const value = seconds(env, name);
    if (value !== undefined) timing[option] = value;
  }
  return timing;
}

export function port(env: NodeJS.ProcessEnv): number {
  const raw = env.PORT?.trim() || '3000';
  const value = Number(raw);
  if (!/^\d{1,5}$/.test(raw) || value > 65535) {
    throw new StartupError(`PORT must be a port number (0-65535), got ${JSON.stringify(env.PORT)}`);
  }
  return value;
}

/** `true`/`false`, a hop count, or Express's names and address lists (`loopback`, `10.0.0.0/8`). */
export function trustProxy(env: NodeJS.ProcessEnv): TrustProxy {
  const raw = env.STRONGROOM_TRUST_PROXY?.trim();
  if (raw === undefined || raw === '' || raw === 'false' || raw === '0') return false;
  if (raw === 'true') return true;
  if (/^\d+$/.test(raw)) return Number(raw);
  return raw
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part.length > 0);
}

/**
 * STRONGROOM_ORIGIN (comma-separated), or the address the demo listens on. Unsafe requests
 * whose Origin is anything else are refused, so behind a proxy set the public origin here.
 */
export function publicOrigins(env: NodeJS.ProcessEnv, host: string, listenPort: number): string[] {
  const configured = env.STRONGROOM_ORIGIN?.trim();
  if (configured !== undefined && configured !== '') {
    return configured.split(',').map((origin) => origin.trim());
  }
  const loopback = ['127.0.0.1', 'localhost', '::1', '0.0.0.0', '::'].includes(host);
  const hosts = loopback
    ? ['127.0.0.1', 'localhost', '[::1]']
    : [host.includes(':') ? `[${host}]` : host];
  return hosts.map((name) => `http://${name}:${listenPort}`);
}
