import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openStoreSpec, parseStoreSpec, StoreSpecError } from '../../src/cli/store-spec.js';

describe('parseStoreSpec', () => {
  it.each([
    ['redis://127.0.0.1:6379', { kind: 'redis', url: 'redis://127.0.0.1:6379' }],
    ['rediss://cache.example:6380/2', { kind: 'redis', url: 'rediss://cache.example:6380/2' }],
    ['postgres://u:p@db/app', { kind: 'postgres', url: 'postgres://u:p@db/app' }],
    [
      'postgresql://db/app?sslmode=require',
      { kind: 'postgres', url: 'postgresql://db/app?sslmode=require' },
    ],
    ['memory:', { kind: 'memory' }],
    ['.data/sessions.db', { kind: 'sqlite', path: '.data/sessions.db' }],
    ['/var/lib/app/sessions.db', { kind: 'sqlite', path: '/var/lib/app/sessions.db' }],
    ['sessions.db', { kind: 'sqlite', path: 'sessions.db' }],
    ['C:\\data\\sessions.db', { kind: 'sqlite', path: 'C:\\data\\sessions.db' }],
  ])('reads %s', (spec, expected) => {
    expect(parseStoreSpec(spec)).toEqual(expected);
  });

  it('takes schemes in any case and keeps the URL as given', () => {
    expect(parseStoreSpec('REDIS://h:1')).toEqual({ kind: 'redis', url: 'REDIS://h:1' });
    expect(parseStoreSpec('Rediss://h:1')).toEqual({ kind: 'redis', url: 'Rediss://h:1' });
    expect(parseStoreSpec('PostgreSQL://h/db')).toEqual({
      kind: 'postgres',
      url: 'PostgreSQL://h/db',
    });
    expect(parseStoreSpec('POSTGRES://h/db')).toEqual({ kind: 'postgres', url: 'POSTGRES://h/db' });
    expect(parseStoreSpec('Memory:')).toEqual({ kind: 'memory' });
  });

  it('ignores surrounding whitespace', () => {
    expect(parseStoreSpec('  redis://h:1\n')).toEqual({ kind: 'redis', url: 'redis://h:1' });
    expect(parseStoreSpec(' memory: ')).toEqual({ kind: 'memory' });
  });

  it.each([
    'ftp://x',
    'mysql://db/app',
    'sqlite://x.db',
    'redis:host',
    'postgres:db',
    'memory:x',
    'file:x.db',
  ])('refuses %s with one message that names the scheme', (spec) => {
    const scheme = spec.slice(0, spec.indexOf(':')).toLowerCase();
    expect(() => parseStoreSpec(spec)).toThrow(StoreSpecError);
    expect(() => parseStoreSpec(spec)).toThrow(
      `Unsupported store "${scheme}:": use redis://, rediss://, postgres://, postgresql://, memory: or the path of an SQLite file`,
    );
  });

  it('never puts the rest of the spec (credentials) in the message', () => {
    expect(() => parseStoreSpec('mysql://admin:hunter2@db/app')).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining('hunter2') as string }),
    );
  });

  it.each(['', '   ', '\n'])('refuses an empty spec (%j)', (spec) => {
    expect(() => parseStoreSpec(spec)).toThrow(StoreSpecError);
    expect(() => parseStoreSpec(spec)).toThrow(/^The store spec is empty: use redis:\/\//);
  });
});

describe('openStoreSpec', () => {
  const dir = mkdtempSync(join(tmpdir(), 'strongroom-store-spec-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('opens the memory store and an SQLite file', async () => {
    const memory = await openStoreSpec({ kind: 'memory' });
    expect(await memory.delete('nothing')).toBe(false);
    await memory.close();

    const sqlite = await openStoreSpec(
      { kind: 'sqlite', path: join(dir, 'sessions.db') },
      { purgeIntervalSeconds: 0 },
    );
    expect(await sqlite.purgeExpired(Date.now(), 10)).toBe(0);
    await sqlite.close();
  });

  it('passes the caller’s options on, so bad ones fail like the store’s own', async () => {
    await expect(
      openStoreSpec({ kind: 'sqlite', path: join(dir, 'bad.db') }, { purgeIntervalSeconds: -1 }),
    ).rejects.toThrow(/purgeIntervalSeconds/);
  });
});
