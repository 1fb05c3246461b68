import { canonicalOrigin } from '../csrf/origin.js';
import type { ConfigProblem } from './errors.js';

/**
 * Validates configured origins: each must already be in canonical form, so that what the
 * operator wrote is exactly what is compared (SM-43). `*`, `null`, wildcards, paths, queries,
 * fragments, trailing slashes and explicit default ports are refused.
 */
export function resolveOrigins(value: unknown, path: string, problems: ConfigProblem[]): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) {
    problems.push({ path, message: 'expected an array of origins such as "https://app.example"' });
    return [];
  }
  const origins: string[] = [];
  value.forEach((entry: unknown, index) => {
    const canonical = typeof entry === 'string' ? canonicalOrigin(entry) : null;
    if (canonical === null || canonical !== entry) {
      const hint = canonical === null ? '' : ` (did you mean "${canonical}"?)`;
      problems.push({
        path: `${path}[${index}]`,
        message: `expected an exact origin: scheme://host[:port], no path, slash or wildcard${hint}`,
      });
      return;
    }
    origins.push(canonical);
  });
  return origins;
}
