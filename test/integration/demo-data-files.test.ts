import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Browser } from './demo-helpers.js';
import { buildDemo, spawnDemo, type DemoProcess } from './demo-process.js';

/**
 * The demo's data directory holds password hashes (users.db), encrypted sessions (sessions.db)
 * and, without STRONGROOM_KEYS, the key that decrypts them (demo-keys): nobody but its owner
 * may read any of it, whatever the umask.
 */
const DATA_FILES = [
  'users.db',
  'users.db-wal',
  'users.db-shm',
  'sessions.db',
  'sessions.db-wal',
  'sessions.db-shm',
  'demo-keys',
];

function mode(path: string): number {
  return statSync(path).mode & 0o777;
}

describe.skipIf(process.platform === 'win32')('demo data files', () => {
  let parent: string;
  let demo: DemoProcess | undefined;

  beforeAll(() => {
    buildDemo();
  }, 120_000);

  afterEach(async () => {
    await demo?.stop();
    demo = undefined;
    rmSync(parent, { recursive: true, force: true });
  });

  /** Starts the demo on `dataDir` and signs in once, so both databases have written to their WAL. */
  async function startAndSignIn(dataDir: string): Promise<void> {
    demo = await spawnDemo({
      STRONGROOM_DATA_DIR: dataDir,
      STRONGROOM_STORE: '',
      STRONGROOM_KEYS: '',
    });
    const browser = new Browser(demo.server);
    expect((await browser.login()).status).toBe(303);
    expect((await browser.me()).status).toBe(200);
  }

  it('a fresh data directory is 0700 and every file in it 0600: databases, -wal, -shm, demo-keys', async () => {
    parent = mkdtempSync(join(tmpdir(), 'strongroom-files-'));
    const dataDir = join(parent, 'nested', 'data');
    await startAndSignIn(dataDir);
    expect(mode(dataDir).toString(8)).toBe('700');
    const files = readdirSync(dataDir).sort();
    expect(files).toEqual(expect.arrayContaining(DATA_FILES));
    for (const file of files) expect(mode(join(dataDir, file)).toString(8), file).toBe('600');
  });

  it('tightens a data directory and files that an earlier version left 0755 / 0644', async () => {
    parent = mkdtempSync(join(tmpdir(), 'strongroom-files-'));
    const dataDir = join(parent, 'data');
    mkdirSync(dataDir, { mode: 0o755 });
    chmodSync(dataDir, 0o755);
    writeFileSync(join(dataDir, 'demo-keys'), `demo:${randomBytes(32).toString('base64url')}\n`, {
      mode: 0o644,
    });
    for (const file of ['users.db', 'sessions.db'])
      writeFileSync(join(dataDir, file), '', { mode: 0o644 });
    for (const file of ['demo-keys', 'users.db', 'sessions.db'])
      chmodSync(join(dataDir, file), 0o644);
    await startAndSignIn(dataDir);
    expect(mode(dataDir).toString(8)).toBe('700');
    for (const file of readdirSync(dataDir)) {
      expect(mode(join(dataDir, file)).toString(8), file).toBe('600');
    }
  });
});
