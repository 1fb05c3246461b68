#!/usr/bin/env node
import { randomBytes } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { openStore } from './open-store.js';

const USAGE = `Usage: strongroom <command> [options]

Commands:
  keygen [--id <id>]                Print a fresh 256-bit encryption key as "id:secret", ready
                                    for STRONGROOM_KEYS (prepend it to rotate: the first key
                                    encrypts, the others still decrypt).
  sessions <user-id>                List a user's live sessions (public ids and times).
  revoke-user <user-id>             End every session of a user (account disabled, SM-29).
  revoke-session <session-id>       End one session by its public id (SM-30).
  purge                             Delete expired sessions now.
  help                              Show this text.

Store commands take --store <spec> (default: $STRONGROOM_STORE): redis://…, postgres://…
or the path of an SQLite file. Put an id that starts with "--" after "--".
`;

type Print = (text: string) => void;

/** Runs the CLI; resolves to the exit code. Exported for tests. */
export async function main(argv: readonly string[], out: Print, err: Print): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'keygen':
      return keygen(rest, out, err);
    case 'sessions':
    case 'revoke-user':
    case 'revoke-session':
    case 'purge':
      return storeCommand(command, rest, out, err);
    case 'help':
    case '--help':
    case '-h':
    case undefined:
      out(USAGE);
      return command === undefined ? 1 : 0;
    default:
      err(`Unknown command "${command}".\n\n${USAGE}`);
      return 2;
  }
}

function keygen(
  args: readonly string[],
  out: (text: string) => void,
  err: (text: string) => void,
): number {
  let id: string;
  try {
    const { values } = parseArgs({
      args: [...args],
      options: { id: { type: 'string' } },
      strict: true,
    });
    id = values.id ?? new Date().toISOString().slice(0, 10);
  } catch (error) {
    err(`${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (!/^[A-Za-z0-9_-]{1,32}$/.test(id)) {
    err('--id must be 1-32 characters of [A-Za-z0-9_-]\n');
    return 2;
  }
  out(`${id}:${randomBytes(32).toString('base64url')}\n`);
  return 0;
}

/** The administrative commands: they talk to the store directly and need no keys. */
async function storeCommand(
  command: 'sessions' | 'revoke-user' | 'revoke-session' | 'purge',
  args: readonly string[],
  out: Print,
  err: Print,
): Promise<number> {
  let target: string | undefined;
  let spec: string | undefined;
  try {
    const { store, positionals } = parseStoreArgs(args);
    spec = store ?? process.env.STRONGROOM_STORE;
    target = positionals[0];
    const wanted = command === 'purge' ? 0 : 1;
    if (positionals.length !== wanted)
      throw new Error(`"${command}" takes ${wanted === 0 ? 'no argument' : 'one argument'}`);
    if (spec === undefined || spec === '')
      throw new Error('--store is required (or set STRONGROOM_STORE)');
  } catch (error) {
    err(`${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }

  let store;
  try {
    store = await openStore(spec);
  } catch (error) {
    err(`Cannot open the store: ${(error as Error).message}\n`);
    return 1;
  }
  try {
    const now = Date.now();
    switch (command) {
      case 'sessions': {
        const sessions = await store.listByUser(target as string, now);
        out(`${sessions.length} live session(s) of ${target}\n`);
        for (const s of sessions) {
          out(
            `${s.id}  created ${iso(s.createdAt)}  last seen ${iso(s.lastSeenAt)}  ends ${iso(Math.min(s.idleExpiresAt, s.absoluteExpiresAt))}\n`,
          );
        }
        return 0;
      }
      case 'revoke-user': {
        const ids = await store.deleteByUser(target as string, { except: null });
        out(
          `Revoked ${ids.length} session(s) of ${target}${ids.length > 0 ? `: ${ids.join(', ')}` : ''}\n`,
        );
        return 0;
      }
      case 'revoke-session': {
        if (await store.delete(target as string)) {
          out(`Revoked session ${target}\n`);
          return 0;
        }
        err(`No session ${target}\n`);
        return 1;
      }
      case 'purge': {
        const batch = 1000;
        let total = 0;
        for (;;) {
          const purged = await store.purgeExpired(now, batch);
          total += purged;
          if (purged < batch) break;
        }
        out(`Purged ${total} expired session(s)\n`);
        return 0;
      }
    }
  } catch (error) {
    err(`The store failed: ${(error as Error).message}\n`);
    return 1;
  } finally {
    await store.close();
  }
}

/**
 * `--store <spec>` and positionals. Not `parseArgs`: public session ids are base64url and may
 * start with `-`, which it would take for an option. An id starting with `--` goes after `--`.
 */
function parseStoreArgs(args: readonly string[]): {
  store: string | undefined;
  positionals: string[];
} {
  let store: string | undefined;
  const positionals: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === '--') {
      positionals.push(...args.slice(i + 1));
      break;
    }
    if (arg === '--store') {
      store = args[++i];
      if (store === undefined) throw new Error('--store needs a value');
    } else if (arg.startsWith('--store=')) {
      store = arg.slice('--store='.length);
    } else if (arg.startsWith('--')) {
      throw new Error(`Unknown option "${arg}"`);
    } else {
      positionals.push(arg);
    }
  }
  return { store, positionals };
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

// Run only when executed (also through npm's bin symlink), not when imported by tests.
const invokedPath = process.argv[1] === undefined ? '' : realpathSync(process.argv[1]);
if (invokedPath === fileURLToPath(import.meta.url)) {
  void main(
    process.argv.slice(2),
    (text) => process.stdout.write(text),
    (text) => process.stderr.write(text),
  ).then((code) => {
    process.exitCode = code;
  });
}
