import { join, relative } from 'node:path';
import type { SessionStore } from 'strongroom';
// Shared with the CLI, which ships in the package; not a public subpath (see the module).
import {
  openStoreSpec,
  parseStoreSpec,
  StoreSpecError,
  type StoreSpec,
} from '../src/cli/store-spec.js';
import { StartupError } from './environment.js';
import { ensurePrivateDirectory, preparePrivateDatabase } from './private-files.js';

export interface DemoStore {
  readonly store: SessionStore;
  /** How the start-up line names it: `sqlite .data/sessions.db`, `memory`, `redis`, `postgres`. */
  readonly label: string;
}

/**
 * The store STRONGROOM_STORE names, or by default `<dataDir>/sessions.db`. An SQLite file is
 * made owner-only before it opens; the memory store comes with a warning.
 */
export async function openDemoStore(
  env: NodeJS.ProcessEnv,
  dataDir: string,
  root: string,
): Promise<DemoStore> {
  const spec = demoStoreSpec(env.STRONGROOM_STORE?.trim() ?? '', dataDir);
  if (spec.kind === 'sqlite') preparePrivateDatabase(spec.path);
  if (spec.kind === 'memory') {
    console.warn('Strongroom demo: memory store; every session is lost when the process stops.');
  }
  return { store: await openStoreSpec(spec), label: labelOf(spec, root) };
}

function demoStoreSpec(raw: string, dataDir: string): StoreSpec {
  if (raw === '') {
    ensurePrivateDirectory(dataDir);
    return { kind: 'sqlite', path: join(dataDir, 'sessions.db') };
  }
  try {
    return parseStoreSpec(raw);
  } catch (error) {
    if (error instanceof StoreSpecError) {
      throw new StartupError(`STRONGROOM_STORE: ${error.message}`);
    }
    throw error;
  }
}

function labelOf(spec: StoreSpec, root: string): string {
  return spec.kind === 'sqlite' ? `sqlite ${relative(root, spec.path) || spec.path}` : spec.kind;
}
