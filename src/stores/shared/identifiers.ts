/** Letters, digits and underscores, not starting with a digit: safe to quote in any SQL dialect. */
const IDENTIFIER_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Whether `value` is an identifier of at most `maxLength` characters (see IDENTIFIER_PATTERN). */
export function isIdentifier(value: unknown, maxLength: number): value is string {
  return typeof value === 'string' && value.length <= maxLength && IDENTIFIER_PATTERN.test(value);
}

/** Identifiers are validated with {@link isIdentifier} first, so they never contain a quote. */
export function quoteIdentifier(identifier: string): string {
  return `"${identifier}"`;
}
