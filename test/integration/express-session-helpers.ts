import type { Server } from 'node:http';
import { isDeletion, parseSetCookie } from './demo-helpers.js';
import { close, listen, type Express } from './express-helpers.js';

export const SID = '__Host-sid';

export interface Served {
  readonly url: string;
  close(): Promise<void>;
}

export async function serve(app: ReturnType<Express>): Promise<Served> {
  const { server, url }: { server: Server; url: string } = await listen(app);
  return { url, close: () => close(server) };
}

export interface Reply {
  readonly status: number;
  readonly headers: Headers;
  readonly body: string;
  readonly setCookies: string[];
  json<T = Record<string, unknown>>(): T;
}

export interface SendOptions {
  readonly method?: string;
  readonly form?: Record<string, string>;
  readonly headers?: Record<string, string>;
}

/**
 * A browser for the compatibility tests: a cookie jar, "HTTPS" through the loopback proxy the
 * apps trust, and same-origin form posts.
 */
export class Client {
  readonly jar = new Map<string, string>();
  readonly #url: string;

  constructor(url: string) {
    this.#url = url;
  }

  get token(): string | undefined {
    return this.jar.get(SID);
  }

  async send(path: string, options: SendOptions = {}): Promise<Reply> {
    const headers: Record<string, string> = {
      'X-Forwarded-Proto': 'https',
      'Sec-Fetch-Site': 'same-origin',
      ...options.headers,
    };
    if (this.jar.size > 0) {
      headers.Cookie = [...this.jar].map(([name, value]) => `${name}=${value}`).join('; ');
    }
    let body: string | undefined;
    if (options.form !== undefined) {
      body = new URLSearchParams(options.form).toString();
      headers['Content-Type'] = 'application/x-www-form-urlencoded';
    }
    const response = await fetch(this.#url + path, {
      method: options.method ?? (body === undefined ? 'GET' : 'POST'),
      headers,
      redirect: 'manual',
      ...(body !== undefined && { body }),
    });
    const text = await response.text();
    const setCookies = response.headers.getSetCookie();
    for (const header of setCookies) {
      const { name, value } = parseSetCookie(header);
      // Express's res.clearCookie() expires with a date in 1970, without Max-Age.
      if (isDeletion(header) || /;\s*Expires=Thu, 01 Jan 1970/i.test(header)) this.jar.delete(name);
      else this.jar.set(name, value);
    }
    return {
      status: response.status,
      headers: response.headers,
      body: text,
      setCookies,
      json<T>() {
        return JSON.parse(text) as T;
      },
    };
  }

  /** A form post carrying a fresh `_csrf` from GET /csrf. */
  async post(path: string, form: Record<string, string> = {}): Promise<Reply> {
    const { token } = (await this.send('/csrf')).json<{ token: string }>();
    return this.send(path, { form: { ...form, _csrf: token } });
  }
}

/** The session cookie's Set-Cookie header in a reply, if it set one. */
export function sessionSetCookie(reply: Reply): string | undefined {
  return reply.setCookies.filter((header) => header.startsWith(`${SID}=`)).at(-1);
}
