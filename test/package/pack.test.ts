// The package as npm users get it: packed from a checkout without dist/ (so `prepack` must
// build it), linted as a tarball (publint, "are the types wrong"), installed from the tarball
// into fresh ESM and CommonJS projects, and exercised there: every subpath export loads (the
// CommonJS build under require(), the ESM one under import), its types resolve, and the
// example of every framework (examples/<framework>/app.ts, the files the README links; the
// Express one is shown there in full) signs a user in and out, and so does the Passport app of
// examples/express-session-migration, before (on express-session) and after its migration to
// strongroom/express-session. `npm run lint:package` runs this file alone.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, readdirSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { formatMessage } from 'publint/utils';
import { publint } from 'publint';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const tsc = join(root, 'node_modules/typescript/bin/tsc');
interface Target {
  readonly types: string;
  readonly default: string;
}
/** A subpath's target: one build for both, or the ESM build for import, the CommonJS for require. */
type Export = string | Target | { readonly import: Target; readonly require: Target };
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  name: string;
  exports: Record<string, Export>;
  bin: Record<string, string>;
};
const subpaths = Object.keys(manifest.exports).filter((key) => key !== './package.json');
const specifier = (subpath: string): string => `${manifest.name}${subpath.slice(1)}`;
/**
 * The subpaths without a CommonJS build: the store contract suite imports Vitest, which throws
 * when it is require()d, and runs only inside Vitest, whose module runner imports it as ESM in
 * CommonJS projects too. A require() still loads it through require(esm) (Node 20.19+).
 */
const esmOnly = new Set(['./testing']);

/** The examples/<name>/app.ts that run from the tarball, each the same sign-in app. */
const EXAMPLES = ['express', 'fastify', 'hono', 'web'] as const;
type Example = (typeof EXAMPLES)[number];
/**
 * The two files of examples/express-session-migration: the same Passport app on express-session
 * and on strongroom/express-session.
 */
const MIGRATION = ['before', 'after'] as const;
type Migration = (typeof MIGRATION)[number];
/** What the examples import besides strongroom, express and better-sqlite3, with their types. */
const EXAMPLE_PACKAGES = [
  'fastify@5',
  '@fastify/formbody@8',
  'hono@4',
  '@hono/node-server@2',
  'passport@0.7',
  'passport-local@1',
  'express-session@1',
  '@types/passport@1',
  '@types/passport-local@1',
  '@types/express-session@1',
];
const targetsOf = (entry: Export): Target[] =>
  typeof entry === 'string' ? [] : 'import' in entry ? [entry.import, entry.require] : [entry];
/** The optional peer each driver subpath loads; the other subpaths load no peer at all. */
const peerOf: Record<string, string> = {
  './stores/sqlite': 'better-sqlite3',
  './stores/redis': 'ioredis',
  './stores/postgres': 'pg',
  './express': 'express',
  './testing': 'vitest',
};

const execFileAsync = promisify(execFile);
/**
 * The environment of a fresh shell: nothing inherited from `npm test` (its package, lifecycle
 * and prefix variables) or Vitest, except the npm settings that say where the cache, the
 * registry and the user's npmrc are.
 */
const keptNpmSettings = new Set(['cache', 'registry', 'userconfig', 'globalconfig', 'nodedir']);
const cleanEnv = Object.fromEntries(
  Object.entries(process.env).filter(([key]) => {
    const setting = /^npm_config_(.+)$/i.exec(key)?.[1]?.toLowerCase();
    if (setting !== undefined) return keptNpmSettings.has(setting);
    return !/^(npm_|vitest)/i.test(key) && key !== 'NODE_ENV' && key !== 'INIT_CWD';
  }),
);

async function exec(
  command: string,
  args: readonly string[],
  cwd: string,
  env: NodeJS.ProcessEnv = {},
): Promise<string> {
  try {
    const { stdout } = await execFileAsync(command, args, {
      cwd,
      env: { ...cleanEnv, ...env },
      maxBuffer: 64 * 1024 * 1024,
    });
    return stdout;
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    throw new Error(`${command} ${args.join(' ')} failed in ${cwd}:\n${stdout}\n${stderr}`);
  }
}

interface Project {
  readonly dir: string;
  readonly installed: readonly string[];
}

let work: string;
let packed: { filename: string; files: { path: string }[]; size: number; entryCount: number };
let esm: Project;
let cjs: Project;
let lintResults: Promise<LintResults>;

interface AttwProblem {
  readonly kind: string;
  readonly entrypoint?: string;
  readonly resolutionKind?: string;
}

interface LintResults {
  /** publint's messages, every level (suggestions too), formatted. */
  readonly publint: string[];
  readonly attw: {
    readonly problems: AttwProblem[];
    /** Per entrypoint and resolution kind, the declaration file TypeScript resolved. */
    readonly types: Record<string, Record<string, string | undefined>>;
  };
}

/**
 * publint and "are the types wrong" on the tarball itself, the bytes `npm publish` would upload:
 * linting the checkout instead would also see files that `files` leaves out, and a stale dist/.
 */
async function lintTarball(tarball: string): Promise<LintResults> {
  const bytes = readFileSync(tarball);
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as Record<string, never>;
  const { messages } = await publint({
    pack: { tarball: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) },
    level: 'suggestion',
    strict: true,
  });
  // The CLI exits 1 whenever it reports a problem, so its JSON, not its exit code, is the result.
  // It calls process.exit() right after printing the report (hundreds of kB of resolution
  // traces): into a pipe, the end of it can be lost; into a file, Node writes synchronously.
  // No DefinitelyTyped lookup: the package ships its own types, and the lint stays offline.
  const attwCli = join(root, 'node_modules/@arethetypeswrong/cli/dist/index.js');
  const args = [attwCli, tarball, '--format', 'json', '--no-definitely-typed'];
  const reportFile = join(work, 'attw-report.json');
  const fd = openSync(reportFile, 'w');
  let stderr = '';
  const exitCode = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      cwd: work,
      env: cleanEnv,
      stdio: ['ignore', fd, 'pipe'],
    });
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('close', resolve);
  }).finally(() => closeSync(fd));
  const stdout = readFileSync(reportFile, 'utf8');
  if (!stdout.trimStart().startsWith('{'))
    throw new Error(`attw exited with ${exitCode}:\n${stdout}\n${stderr}`);
  const report = JSON.parse(stdout) as {
    problems?: Record<string, AttwProblem[]>;
    analysis: {
      entrypoints: Record<
        string,
        { resolutions: Record<string, { resolution?: { fileName: string } }> }
      >;
    };
  };
  const types = Object.fromEntries(
    Object.entries(report.analysis.entrypoints).map(([entrypoint, { resolutions }]) => [
      entrypoint,
      Object.fromEntries(
        Object.entries(resolutions).map(([kind, resolution]) => [
          kind,
          resolution.resolution?.fileName.replace(`/node_modules/${manifest.name}/`, ''),
        ]),
      ),
    ]),
  );
  return {
    publint: messages.map((message) => `${message.type}: ${formatMessage(message, pkg) ?? ''}`),
    attw: { problems: Object.values(report.problems ?? {}).flat(), types },
  };
}

/** Tracked and untracked-but-not-ignored files only: no dist/, node_modules/ or .data/. */
async function copyCheckout(to: string): Promise<void> {
  const listed = await exec(
    'git',
    ['ls-files', '-z', '--cached', '--others', '--exclude-standard'],
    root,
  );
  const files = [...new Set(listed.split('\0'))].filter(
    (file) => file !== '' && existsSync(join(root, file)),
  );
  for (const file of files) {
    await mkdir(dirname(join(to, file)), { recursive: true });
    await copyFile(join(root, file), join(to, file));
  }
  // The build needs the devDependencies (typescript, @types/*), as after `npm ci` in a clone.
  await symlink(join(root, 'node_modules'), join(to, 'node_modules'), 'dir');
}

/**
 * better-sqlite3 downloads a prebuilt binary from GitHub, or compiles SQLite for minutes when it
 * cannot (twice over, one per project, on a 2-core CI machine). Offer it the binary of the
 * repository's own copy as a local prebuild, which is what users get from the download: the
 * projects then install that same 12.x version (the lockfile's), for the same Node ABI. Without
 * a built copy they install the latest 12.x and compile it.
 */
async function sqliteInstall(): Promise<{ spec: string; env: NodeJS.ProcessEnv }> {
  const pkg = join(root, 'node_modules/better-sqlite3');
  const { version } = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8')) as {
    version: string;
  };
  if (!version.startsWith('12.') || !existsSync(join(pkg, 'build/Release/better_sqlite3.node')))
    return { spec: 'better-sqlite3@12', env: {} };
  const dir = join(work, 'prebuilds');
  await mkdir(dir);
  const name = `better-sqlite3-v${version}-node-v${process.versions.modules}-${process.platform}-${process.arch}.tar.gz`;
  await exec('tar', ['-czf', join(dir, name), '-C', pkg, 'build/Release/better_sqlite3.node'], pkg);
  return {
    spec: `better-sqlite3@${version}`,
    env: { npm_config_better_sqlite3_local_prebuilds: dir },
  };
}

async function createProject(
  name: 'esm' | 'cjs',
  packages: readonly string[],
  sqlite: { spec: string; env: NodeJS.ProcessEnv },
): Promise<Project> {
  const dir = join(work, name);
  await mkdir(dir);
  const type = name === 'esm' ? 'module' : 'commonjs';
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name, private: true, type }));
  const tarball = join(work, packed.filename);
  const args = ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'];
  const all = [...EXAMPLE_PACKAGES, ...packages];
  await exec('npm', [...args, tarball, 'express@5', sqlite.spec, ...all], dir, sqlite.env);
  return { dir, installed: ['express', 'better-sqlite3', ...all.map(bareName)] };
}

function bareName(spec: string): string {
  return spec.replace(/(?<=.)@[^@/]*$/, '');
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'strongroom-pack-'));
  const checkout = join(work, 'checkout');
  await copyCheckout(checkout);
  expect(existsSync(join(checkout, 'dist'))).toBe(false);
  const output = await exec('npm', ['pack', '--json', '--pack-destination', work], checkout);
  [packed] = JSON.parse(output.slice(output.indexOf('['))) as [typeof packed];
  lintResults = lintTarball(join(work, packed.filename));
  lintResults.catch(() => undefined);

  // One npm cache (the user's, warm after `npm ci`) for both projects, installed in parallel.
  // Between them every subpath loads once: the ESM project has vitest (strongroom/testing) but no
  // Redis or PostgreSQL driver, the CommonJS one has the drivers but no vitest.
  const sqlite = await sqliteInstall();
  const types = ['@types/express@5', '@types/node@20'];
  [esm, cjs] = await Promise.all([
    createProject('esm', [...types, '@types/better-sqlite3@7', 'vitest@4'], sqlite),
    createProject('cjs', [...types, 'ioredis@5', 'pg@8'], sqlite),
  ]);
  // Compile the examples in both projects at once; the tests that need them report a failure.
  for (const project of [esm, cjs]) compiledMigration(project).catch(() => undefined);
}, 480_000);

afterAll(async () => {
  if (work !== undefined) await rm(work, { recursive: true, force: true });
});

describe('npm pack', { timeout: 240_000 }, () => {
  it('builds dist/ itself (prepack) and ships the build, LICENSE and README, no tests or sources', () => {
    const files = packed.files.map((file) => file.path);
    expect(files).toEqual(expect.arrayContaining(['LICENSE', 'README.md', 'package.json']));
    const strays = files.filter(
      (file) =>
        !['LICENSE', 'README.md', 'package.json'].includes(file) &&
        !file.startsWith('dist/src/') &&
        !file.startsWith('dist/cjs/'),
    );
    expect(strays).toEqual([]);
    expect(
      files.filter((file) => /(^|\/)(test|tests|__tests__)\/|\.(test|spec)\./.test(file)),
    ).toEqual([]);
    expect(files.filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts'))).toEqual([]);
  });

  it('holds the types and the code of every export, and the bin', () => {
    const files = new Set(packed.files.map((file) => file.path));
    const targets = [
      ...Object.values(manifest.exports).flatMap((entry) =>
        typeof entry === 'string'
          ? [entry]
          : targetsOf(entry).flatMap((target) => [target.types, target.default]),
      ),
      ...Object.values(manifest.bin),
      'dist/cjs/package.json',
    ];
    for (const target of targets) expect(files, target).toContain(target.replace(/^\.\//, ''));
    for (const subpath of subpaths) {
      const entry = manifest.exports[subpath]!;
      expect(typeof entry === 'object' && 'import' in entry, subpath).toBe(!esmOnly.has(subpath));
      for (const target of targetsOf(entry)) expect(target, subpath).toHaveProperty('types');
    }
  });

  it('marks dist/cjs as CommonJS, so that Node and TypeScript read its .js and .d.ts files as such', () => {
    const dir = join(esm.dir, 'node_modules', manifest.name);
    expect(JSON.parse(readFileSync(join(dir, 'dist/cjs/package.json'), 'utf8'))).toEqual({
      type: 'commonjs',
    });
    expect(readFileSync(join(dir, 'dist/cjs/index.js'), 'utf8')).toMatch(/\brequire\("\.\//);
  });

  it('ships source maps that carry their sources, since src/ is not in the tarball', () => {
    const dir = join(esm.dir, 'node_modules', manifest.name, 'dist/src');
    const maps = readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((file) =>
      file.endsWith('.js.map'),
    );
    expect(maps.length).toBeGreaterThan(10);
    for (const file of maps) {
      const map = JSON.parse(readFileSync(join(dir, file), 'utf8')) as {
        sources: string[];
        sourcesContent?: unknown[];
      };
      expect(map.sourcesContent?.length, file).toBe(map.sources.length);
      expect(map.sourcesContent?.every((text) => typeof text === 'string' && text !== '')).toBe(
        true,
      );
    }
  });
});

describe('package lint, on the tarball', { timeout: 240_000 }, () => {
  it('publint reports nothing, not even a suggestion', async () => {
    expect((await lintResults).publint).toEqual([]);
  });

  it('"are the types wrong": every export resolves, typed, for node10, node16 (CommonJS and ESM) and bundlers', async () => {
    const { problems, types } = (await lintResults).attw;
    // The one accepted report: strongroom/testing is ESM only (see esmOnly), so a require() of
    // it from CommonJS goes through require(esm). Anything else is a packaging defect.
    expect(problems).toEqual(
      [...esmOnly].map((entrypoint) => ({
        kind: 'CJSResolvesToESM',
        entrypoint,
        resolutionKind: 'node16-cjs',
      })),
    );
    // Each format gets its own declarations: CommonJS ones under require() (and node10, whose
    // TypeScript projects compile to require()), ESM ones under import and in bundlers.
    expect(Object.keys(types).sort()).toEqual(Object.keys(manifest.exports).sort());
    for (const subpath of subpaths) {
      const esmBuild: unknown = expect.stringMatching(/^dist\/src\/.*\.d\.ts$/);
      const cjsBuild: unknown = esmOnly.has(subpath)
        ? esmBuild
        : expect.stringMatching(/^dist\/cjs\/.*\.d\.ts$/);
      expect(types[subpath], subpath).toEqual({
        node10: cjsBuild,
        'node16-cjs': cjsBuild,
        'node16-esm': esmBuild,
        bundler: esmBuild,
      });
    }
  });
});

/** What loading each subpath does in `project`: 'ok', or the error code and message. */
async function loadEverySubpath(project: Project, how: 'import' | 'require'): Promise<unknown> {
  const script =
    how === 'import'
      ? `const out = {};
         for (const s of JSON.parse(process.argv[1])) {
           try { await import(s); out[s] = 'ok'; } catch (e) { out[s] = e.code + ': ' + e.message; }
         }
         console.log(JSON.stringify(out));`
      : `const out = {};
         for (const s of JSON.parse(process.argv[1])) {
           try { require(s); out[s] = 'ok'; } catch (e) { out[s] = e.code + ': ' + e.message; }
         }
         console.log(JSON.stringify(out));`;
  const type = how === 'import' ? ['--input-type=module'] : ['--input-type=commonjs'];
  const specifiers = JSON.stringify(subpaths.map(specifier));
  return JSON.parse(
    await exec(process.execPath, [...type, '-e', script, specifiers], project.dir),
  ) as unknown;
}

/** The file each subpath resolves to in `project`, relative to the installed package. */
async function resolveEverySubpath(
  project: Project,
  how: 'import' | 'require',
): Promise<Record<string, string>> {
  const resolve = how === 'import' ? 'fileURLToPath(import.meta.resolve(s))' : 'require.resolve(s)';
  const script = `${how === 'import' ? "import { fileURLToPath } from 'node:url';" : ''}
    const out = {};
    for (const s of JSON.parse(process.argv[1])) out[s] = ${resolve};
    console.log(JSON.stringify(out));`;
  const type = how === 'import' ? '--input-type=module' : '--input-type=commonjs';
  const specifiers = JSON.stringify(subpaths.map(specifier));
  const resolved = JSON.parse(
    await exec(process.execPath, [type, '-e', script, specifiers], project.dir),
  ) as Record<string, string>;
  const dir = join(project.dir, 'node_modules', manifest.name, '/');
  return Object.fromEntries(
    Object.entries(resolved).map(([name, file]) => [name, file.replace(dir, '')]),
  );
}

function expectedLoads(project: Project): Record<string, unknown> {
  return Object.fromEntries(
    subpaths.map((subpath) => {
      const peer = peerOf[subpath];
      return [
        specifier(subpath),
        peer === undefined || project.installed.includes(peer)
          ? 'ok'
          : // ESM: "Cannot find package 'x'"; CommonJS: MODULE_NOT_FOUND "Cannot find module 'x'".
            expect.stringMatching(
              new RegExp(`^(ERR_)?MODULE_NOT_FOUND: Cannot find (package|module) '${peer}'`),
            ),
      ];
    }),
  );
}

describe('the installed package', { timeout: 240_000 }, () => {
  it('import() loads every export in an ESM project; only a missing optional peer fails its own subpath', async () => {
    expect(esm.installed).not.toContain('ioredis');
    expect(await loadEverySubpath(esm, 'import')).toEqual(expectedLoads(esm));
  });

  it('import() gets the ESM build and require() the CommonJS build of every export (strongroom/testing: ESM both ways)', async () => {
    const [imported, required] = await Promise.all([
      resolveEverySubpath(esm, 'import'),
      resolveEverySubpath(cjs, 'require'),
    ]);
    for (const subpath of subpaths) {
      expect(imported[specifier(subpath)], subpath).toMatch(/^dist\/src\/.*\.js$/);
      expect(required[specifier(subpath)], subpath).toMatch(
        esmOnly.has(subpath) ? /^dist\/src\/.*\.js$/ : /^dist\/cjs\/.*\.js$/,
      );
    }
  });

  it('require() loads every export in a CommonJS project (strongroom/testing through require(esm), Node 20.19+); only a missing optional peer fails its own subpath', async () => {
    expect(await loadEverySubpath(cjs, 'require')).toEqual(expectedLoads(cjs));
    const version = await exec(
      process.execPath,
      ['-p', `require('${manifest.name}/package.json').version`],
      cjs.dir,
    );
    expect(version.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('TypeScript (module nodenext) resolves the types of every export and compiles the examples', async () => {
    const compiled = await compiledExamples(esm);
    for (const name of EXAMPLES) expect(compiled[name]).toContain(`from 'strongroom/${name}'`);
    // The shipped declarations themselves are sound (skipLibCheck off), given the driver's types.
    await writeFile(
      join(esm.dir, 'tsconfig.strict.json'),
      JSON.stringify({
        extends: './tsconfig.json',
        compilerOptions: { skipLibCheck: false, noEmit: true },
        files: EXAMPLES.map((name) => `${name}.ts`),
      }),
    );
    await exec(process.execPath, [tsc, '-p', 'tsconfig.strict.json'], esm.dir);
  });

  it('TypeScript in a CommonJS project resolves the CommonJS types of every export, under module node16, nodenext and commonjs (node10)', async () => {
    await compiledExamples(cjs);
    const imports = subpaths
      .filter((subpath) => !esmOnly.has(subpath))
      .map(
        (subpath, i) =>
          `import type * as m${i} from '${specifier(subpath)}';\nexport type T${i} = keyof typeof m${i};`,
      );
    await writeFile(join(cjs.dir, 'every-cjs-export.ts'), `${imports.join('\n')}\n`);
    const base = { target: 'es2022', types: ['node'], strict: true, noEmit: true };
    const configs = {
      node16: { module: 'node16' },
      nodenext: { module: 'nodenext' },
      // What `module: commonjs` implies; esModuleInterop for `import express from 'express'`.
      node10: { module: 'commonjs', moduleResolution: 'node10', esModuleInterop: true },
    };
    await Promise.all(
      Object.entries(configs).map(async ([name, options]) => {
        await writeFile(
          join(cjs.dir, `tsconfig.${name}.json`),
          JSON.stringify({
            compilerOptions: { ...base, ...options, skipLibCheck: true },
            files: [...EXAMPLES.map((name) => `${name}.ts`), 'every-cjs-export.ts'],
          }),
        );
        await exec(process.execPath, [tsc, '-p', `tsconfig.${name}.json`], cjs.dir);
      }),
    );
  });

  it('two copies in one process (the ESM and the CommonJS build): isStrongroomError() recognises the errors of both, where instanceof cannot', async () => {
    const script = `
      import { createRequire } from 'node:module';
      import * as esm from '${manifest.name}/errors';
      import * as root from '${manifest.name}';
      const require = createRequire(process.cwd() + '/');
      const cjs = require('${manifest.name}/errors');
      const store = require('${manifest.name}/store');
      const fromCjs = new cjs.CSRFError('cross-site');
      const fromEsm = new esm.CSRFError('cross-site');
      console.log(JSON.stringify({
        twoClasses: cjs.CSRFError !== esm.CSRFError,
        instanceofAcross: fromCjs instanceof esm.CSRFError || fromEsm instanceof cjs.StrongroomError,
        esmRecognisesCjs: esm.isStrongroomError(fromCjs, 'ERR_CSRF') && esm.isStrongroomError(fromCjs),
        cjsRecognisesEsm: cjs.isStrongroomError(fromEsm, 'ERR_CSRF'),
        storeErrorFromCjs: root.isStrongroomError(new store.StoreConflictError('token hash'), 'ERR_STORE_CONFLICT'),
        otherCode: esm.isStrongroomError(fromCjs, 'ERR_CONFIG'),
        plainError: esm.isStrongroomError(new Error('ERR_CSRF')),
        lookalike: esm.isStrongroomError({ code: 'ERR_CSRF', status: 403 }, 'ERR_CSRF'),
        ownKeys: Reflect.ownKeys(fromCjs).map(String).sort(),
      }));`;
    const output = await exec(process.execPath, ['--input-type=module', '-e', script], cjs.dir);
    expect(JSON.parse(output)).toEqual({
      twoClasses: true,
      instanceofAcross: false,
      esmRecognisesCjs: true,
      cjsRecognisesEsm: true,
      storeErrorFromCjs: true,
      otherCode: false,
      plainError: false,
      lookalike: false,
      // The brand lives on the prototype: nothing new in logs, JSON or structured clones.
      ownKeys: ['code', 'message', 'name', 'reason', 'stack', 'status'],
    });
  });
});

const compiled = new Map<Project, Promise<Record<Example, string>>>();

/**
 * Compiles every examples/<name>/app.ts in `project`, as <name>.ts, and returns the JavaScript
 * of each. ESM: the tsconfig a new user gets from `tsc --init --types node`, plus a file
 * importing every export's types. CommonJS: module nodenext without verbatimModuleSyntax (which
 * forbids `import` in CommonJS), so the same sources become `require()` calls.
 */
function compiledExamples(project: Project): Promise<Record<Example, string>> {
  let result = compiled.get(project);
  if (result === undefined) {
    result = (async () => {
      for (const name of EXAMPLES)
        await copyFile(join(root, `examples/${name}/app.ts`), join(project.dir, `${name}.ts`));
      if (project === esm) {
        await exec(process.execPath, [tsc, '--init', '--types', 'node'], project.dir);
        const imports = subpaths.map(
          (subpath, i) =>
            `import type * as m${i} from '${specifier(subpath)}';\nexport type T${i} = keyof typeof m${i};`,
        );
        await writeFile(join(project.dir, 'every-export.ts'), `${imports.join('\n')}\n`);
      } else {
        const compilerOptions = { module: 'nodenext', target: 'es2022', types: ['node'] };
        await writeFile(
          join(project.dir, 'tsconfig.json'),
          JSON.stringify({
            compilerOptions: { ...compilerOptions, strict: true, skipLibCheck: true },
          }),
        );
      }
      await exec(process.execPath, [tsc, '-p', 'tsconfig.json'], project.dir);
      const js = (name: Example): string => readFileSync(join(project.dir, `${name}.js`), 'utf8');
      return Object.fromEntries(EXAMPLES.map((name) => [name, js(name)])) as Record<
        Example,
        string
      >;
    })();
    compiled.set(project, result);
  }
  return result;
}

const compiledMigrations = new Map<Project, Promise<Record<Migration, string>>>();

/**
 * Compiles examples/express-session-migration/{before,after}.ts in `project`, after the examples
 * (whose tsconfig.json takes every .ts file of the directory), and returns the JavaScript of
 * each. Each file is a program of its own, under the project's options: @types/express-session
 * and strongroom/express-session both declare Express's `req.session`, and with `types: ['node']`
 * only the declarations a program imports apply, as in the app before and after its migration.
 */
function compiledMigration(project: Project): Promise<Record<Migration, string>> {
  let result = compiledMigrations.get(project);
  if (result === undefined) {
    result = (async () => {
      await compiledExamples(project);
      const js: Partial<Record<Migration, string>> = {};
      for (const name of MIGRATION) {
        const source = join(root, `examples/express-session-migration/${name}.ts`);
        await copyFile(source, join(project.dir, `${name}.ts`));
        await writeFile(
          join(project.dir, `tsconfig.${name}.json`),
          JSON.stringify({ extends: './tsconfig.json', files: [`${name}.ts`] }),
        );
        await exec(process.execPath, [tsc, '-p', `tsconfig.${name}.json`], project.dir);
        js[name] = readFileSync(join(project.dir, `${name}.js`), 'utf8');
      }
      return js as Record<Migration, string>;
    })();
    compiledMigrations.set(project, result);
  }
  return result;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

const running = new Set<ChildProcess>();

/** Starts `<name>.js` in `project` and returns its URL once it listens. */
async function startExample(project: Project, name: Example | Migration): Promise<string> {
  const [keys, port] = await Promise.all([
    exec(join(project.dir, 'node_modules/.bin/strongroom'), ['keygen'], project.dir),
    freePort(),
  ]);
  const child = spawn(process.execPath, [`${name}.js`], {
    cwd: project.dir,
    env: { ...cleanEnv, PORT: String(port), STRONGROOM_KEYS: keys.trim() },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  child.once('exit', () => running.delete(child));
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error(`example did not start within 30 s:\n${stdout}\n${stderr}`));
    }, 30_000);
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (stdout.includes('Listening on')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`example exited with ${code}:\n${stdout}\n${stderr}`));
    });
  });
  return `http://localhost:${port}`;
}

/** The cookies a browser would hold. */
class Jar {
  readonly #cookies = new Map<string, string>();
  store(response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair = '', ...attributes] = line.split(';');
      const name = pair.slice(0, pair.indexOf('='));
      if (attributes.some((attribute) => /^\s*max-age=0\s*$/i.test(attribute)))
        this.#cookies.delete(name);
      else this.#cookies.set(name, pair.slice(pair.indexOf('=') + 1));
    }
  }
  get header(): string {
    return [...this.#cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }
  has(name: string): boolean {
    return this.#cookies.has(name);
  }
  get(name: string): string | undefined {
    return this.#cookies.get(name);
  }
}

/** A browser on `url`: its cookie jar, page visits, and same-origin form posts. */
function browse(url: string) {
  const jar = new Jar();
  const html = { Accept: 'text/html' };
  const visit = async (path: string, init: RequestInit = {}): Promise<Response> => {
    const response = await fetch(`${url}${path}`, {
      redirect: 'manual',
      ...init,
      headers: { ...html, Cookie: jar.header, ...(init.headers as Record<string, string>) },
    });
    jar.store(response);
    return response;
  };
  const post = (path: string, fields: Record<string, string>): Promise<Response> =>
    visit(path, {
      method: 'POST',
      body: new URLSearchParams(fields),
      headers: { Origin: url, 'Sec-Fetch-Site': 'same-origin' },
    });
  return { jar, visit, post };
}

function csrfField(page: string): string {
  return /name="_csrf" value="([A-Za-z0-9_-]+)"/.exec(page)?.[1] ?? 'no _csrf field';
}

/** A browser's visit: sign-in form, sign-in, the guarded page, sign-out. */
async function signInAndOut(url: string): Promise<void> {
  const { jar, visit, post } = browse(url);

  const guarded = await visit('/account');
  expect(guarded.status).toBe(303);
  expect(guarded.headers.get('location')).toMatch(/^\/login(\?|$)/);
  const api = await visit('/account', { headers: { Accept: 'application/json' } });
  expect(api.status).toBe(401);

  const form = await visit('/login');
  expect(form.status).toBe(200);
  const token = csrfField(await form.text());
  const credentials = { email: 'alice@example.com', password: 'correct horse battery staple' };
  expect((await post('/login', credentials)).status).toBe(403); // no _csrf field
  expect((await post('/login', { ...credentials, password: 'wrong', _csrf: token })).status).toBe(
    401,
  );

  const login = await post('/login', { ...credentials, _csrf: token });
  expect(login.status).toBe(303);
  // Relative (Express, Fastify, Hono) or absolute (the web example's Response.redirect).
  expect(new URL(login.headers.get('location') ?? '', url).href).toBe(`${url}/account`);
  expect(jar.has('sid')).toBe(true);

  const account = await visit('/account');
  expect(account.status).toBe(200);
  const page = await account.text();
  expect(page).toContain('Signed in as alice');

  const logout = await post('/logout', { _csrf: csrfField(page) });
  expect(logout.status).toBe(303);
  expect(jar.has('sid')).toBe(false);
  expect((await visit('/account')).status).toBe(303);
}

describe('the examples, installed from the tarball', { timeout: 240_000 }, () => {
  afterAll(() => {
    for (const child of running) child.kill();
  });

  describe.each(EXAMPLES)('examples/%s/app.ts', (name) => {
    it('signs in and out as an ESM app', async () => {
      await compiledExamples(esm);
      await signInAndOut(await startExample(esm, name));
    });

    it('signs in and out compiled to CommonJS, require()-ing strongroom', async () => {
      const js = (await compiledExamples(cjs))[name];
      expect(js).toContain(`require("strongroom/${name}")`);
      expect(js).not.toMatch(/^import /m);
      await signInAndOut(await startExample(cjs, name));
    });
  });
});

/**
 * A browser's visit to the Passport app of examples/express-session-migration: the guarded page
 * sends to the sign-in form, a wrong password back to it (with Passport's failure message), the
 * right one on to the page (a new session token), then sign-out. Both apps redirect with 302,
 * Express's and Passport's default. The migrated app also refuses a form without its CSRF token,
 * names its cookie `sid` over plain HTTP (`__Host-sid` only over HTTPS), and ends the session on
 * the server at sign-out, so that the cookie from before it no longer signs anyone in.
 */
async function passportSignInAndOut(url: string, file: Migration): Promise<void> {
  const { jar, visit, post } = browse(url);
  const migrated = file === 'after';
  const cookie = migrated ? 'sid' : 'connect.sid';
  const csrf = (page: string): Record<string, string> =>
    migrated ? { _csrf: csrfField(page) } : {};
  const expectToLogin = (response: Response): void => {
    expect(response.status).toBe(302);
    expect(response.headers.get('location')).toBe('/login');
  };

  expectToLogin(await visit('/account'));
  const form = await visit('/login');
  expect(form.status).toBe(200);
  let page = await form.text();
  expect(page).toContain('<form method="post" action="/login/password">');
  const credentials = { username: 'alice', password: 'correct horse battery staple' };
  if (migrated) expect((await post('/login/password', credentials)).status).toBe(403);
  expectToLogin(
    await post('/login/password', { ...credentials, password: 'wrong', ...csrf(page) }),
  );
  page = await (await visit('/login')).text();
  expect(page).toContain('Wrong username or password.');

  // /account stored returnTo, so the visitor already has a session, anonymous.
  const anonymous = jar.get(cookie);
  expect(anonymous).toBeDefined();
  const login = await post('/login/password', { ...credentials, ...csrf(page) });
  expect(login.status).toBe(302);
  expect(login.headers.get('location')).toBe('/account');
  const names = login.headers.getSetCookie().map((line) => line.slice(0, line.indexOf('=')));
  expect(names).toContain(cookie);
  expect(names).not.toContain('__Host-sid');
  expect(jar.get(cookie)).not.toBe(anonymous);
  const signedIn = jar.get(cookie)!;

  const account = await visit('/account');
  expect(account.status).toBe(200);
  page = await account.text();
  expect(page).toContain('Signed in as alice');

  expectToLogin(await post('/logout', csrf(page)));
  expectToLogin(await visit('/account'));
  if (migrated) {
    const replayed = await fetch(`${url}/account`, {
      redirect: 'manual',
      headers: { Accept: 'text/html', Cookie: `${cookie}=${signedIn}` },
    });
    expectToLogin(replayed);
  }
}

describe(
  'examples/express-session-migration, installed from the tarball',
  { timeout: 240_000 },
  () => {
    afterAll(() => {
      for (const child of running) child.kill();
    });

    describe.each(MIGRATION)('%s.ts', (name) => {
      const module = name === 'after' ? 'strongroom/express-session' : 'express-session';

      it('signs in and out with Passport as an ESM app', async () => {
        expect((await compiledMigration(esm))[name]).toContain(`from '${module}'`);
        await passportSignInAndOut(await startExample(esm, name), name);
      });

      it(`signs in and out with Passport compiled to CommonJS, require()-ing ${module}`, async () => {
        const js = (await compiledMigration(cjs))[name];
        expect(js).toContain(`require("${module}")`);
        expect(js).not.toMatch(/^import /m);
        await passportSignInAndOut(await startExample(cjs, name), name);
      });
    });
  },
);
