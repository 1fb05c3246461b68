import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { createSQLiteStore } from '../../src/stores/sqlite.js';
import { describeStoreContract } from '../../src/testing/store-contract.js';

const directory = mkdtempSync(join(tmpdir(), 'strongroom-sqlite-contract-'));
let files = 0;

afterAll(() => {
  rmSync(directory, { recursive: true, force: true });
});

describeStoreContract('sqlite :memory:', {
  open: () => Promise.resolve(createSQLiteStore({ path: ':memory:' })),
});

describeStoreContract('sqlite file', {
  open: () => Promise.resolve(createSQLiteStore({ path: join(directory, `${files++}.db`) })),
});
