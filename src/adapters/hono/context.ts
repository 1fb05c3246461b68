import type { Context } from 'hono';

/** The part of `@hono/node-server`'s bindings that says where a request came from. */
interface NodeServerBindings {
  readonly incoming?: { readonly socket?: { readonly remoteAddress?: string } };
}

/**
 * The client's address on `@hono/node-server`, from the socket it accepted (never a header);
 * null on other hosts, or under `app.request()`.
 */
export function socketAddress(c: Context): string | null {
  const env = c.env as NodeServerBindings | undefined;
  return env?.incoming?.socket?.remoteAddress ?? null;
}

/**
 * Puts `response` in place of `c.res`, as it is. Hono's `c.res` setter would otherwise copy
 * the old response's headers onto the new one: its `Vary` over our merged one, and its
 * Set-Cookie headers in place of ours (a login's new cookie would be lost). Clearing first
 * makes the setter take the new response unchanged.
 */
export function replaceResponse(c: Context, response: Response): void {
  c.res = undefined;
  c.res = response;
}
