import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseKeyList, type KeyInput } from 'strongroom';
import { ensurePrivateDirectory, makePrivateFile } from './private-files.js';

/** STRONGROOM_KEYS, or a demo key generated once and kept in `.data/demo-keys` (mode 0600). */
export function loadKeys(env: NodeJS.ProcessEnv, dataDir: string, root: string): KeyInput[] {
  const configured = env.STRONGROOM_KEYS?.trim();
  if (configured !== undefined && configured !== '') return parseKeyList(configured);
  const file = join(dataDir, 'demo-keys');
  ensurePrivateDirectory(dataDir);
  if (!existsSync(file)) {
    const secret = randomBytes(32).toString('base64url');
    writeFileSync(file, `demo:${secret}\n`, { mode: 0o600, flag: 'wx' });
  }
  makePrivateFile(file);
  console.warn(
    `Strongroom demo: STRONGROOM_KEYS is not set; using the generated key in ${relative(root, file)}. ` +
      'Real applications must configure their own keys (`npx strongroom keygen`) and keep them out of the repository.',
  );
  return parseKeyList(readFileSync(file, 'utf8'));
}
