#!/usr/bin/env node
import { randomBytes } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const USAGE = `Usage: strongroom <command> [options]

Commands:
  keygen [--id <id>]   Print a fresh 256-bit encryption key as "id:secret", ready for
                       STRONGROOM_KEYS (prepend it to rotate: the first key encrypts,
                       the others still decrypt).
  help                 Show this text.
`;

/** Runs the CLI; returns the exit code. Exported for tests. */
export function main(
  argv: readonly string[],
  out: (text: string) => void,
  err: (text: string) => void,
): number {
  const [command, ...rest] = argv;
  switch (command) {
    case 'keygen':
      return keygen(rest, out, err);
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

// Run only when executed (also through npm's bin symlink), not when imported by tests.
const invokedPath = process.argv[1] === undefined ? '' : realpathSync(process.argv[1]);
if (invokedPath === fileURLToPath(import.meta.url)) {
  process.exitCode = main(
    process.argv.slice(2),
    (text) => process.stdout.write(text),
    (text) => process.stderr.write(text),
  );
}
