import Negotiator from 'negotiator';

/** What an error answer or a guard can send, in the order a tie is broken (JSON first). */
const OFFERED = ['application/json', 'text/html'];

/**
 * Whether an `Accept` header ranks HTML above JSON, as Express's `req.accepts(['json', 'html'])`
 * decides it (the same negotiator): a tie, a wildcard or no header at all is JSON.
 */
export function prefersHTML(accept: string | readonly string[] | null | undefined): boolean {
  if (accept === undefined || accept === null) return false;
  const header = typeof accept === 'string' ? accept : accept.join(', ');
  return new Negotiator({ headers: { accept: header } }).mediaType(OFFERED) === 'text/html';
}
