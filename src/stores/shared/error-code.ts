/** The string `code` of an error (Node's `ENOENT`, SQLite's `SQLITE_BUSY`, a SQLSTATE), or null. */
export function errorCode(error: unknown): string | null {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : null;
}
