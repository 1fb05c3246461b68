import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));

describe('CommonJS consumers', () => {
  let child: ChildProcess;
  let url: string;

  beforeAll(async () => {
    // `npm test` builds first; a bare `vitest run` may not have (or only the ESM build, which
    // the demo tests make).
    if (!existsSync(`${root}/dist/cjs/package.json`) || !existsSync(`${root}/dist/src/index.js`))
      execFileSync('npm', ['run', 'build', '--silent'], { cwd: root });
    child = spawn(process.execPath, ['test/fixtures/cjs-app.cjs'], {
      cwd: root,
      env: { ...process.env, KEY: randomBytes(32).toString('base64url'), NODE_NO_WARNINGS: '1' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const port = await new Promise<string>((resolve, reject) => {
      child.stdout!.once('data', (chunk: Buffer) => resolve(chunk.toString().trim()));
      child.once('exit', (code) => reject(new Error(`CommonJS app exited with ${code}`)));
    });
    url = `http://127.0.0.1:${port}`;
  });
  afterAll(() => {
    child?.kill();
  });

  it('require() gets the CommonJS build, import the ESM one', () => {
    const resolved = (how: 'require' | 'import'): string =>
      execFileSync(
        process.execPath,
        how === 'require'
          ? ['-p', "require.resolve('strongroom/express')"]
          : ['--input-type=module', '-e', "console.log(import.meta.resolve('strongroom/express'))"],
        { cwd: root, encoding: 'utf8' },
      ).trim();
    expect(resolved('require')).toBe(`${root}dist/cjs/adapters/express.js`);
    expect(resolved('import')).toBe(`file://${root}dist/src/adapters/express.js`);
  });

  it('an Express app written in CommonJS can require() strongroom and sign in', async () => {
    const login = await fetch(`${url}/login`, { method: 'POST' });
    expect(login.status).toBe(204);
    const cookie = login.headers.getSetCookie()[0]!.split(';')[0]!;
    expect(cookie).toMatch(/^sid=[A-Za-z0-9_-]{43}$/);
    const me = await fetch(`${url}/me`, { headers: { Cookie: cookie } });
    expect(await me.json()).toEqual({ user: 'cjs-user' });
  });
});
