/** Markup that is already escaped (built by {@link html}). */
export class SafeHTML {
  readonly value: string;

  constructor(value: string) {
    this.value = value;
  }

  toString(): string {
    return this.value;
  }
}

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
  '`': '&#96;',
};

export function escapeHTML(value: string): string {
  return value.replace(/[&<>"'`]/g, (char) => ESCAPES[char] ?? char);
}

/**
 * A tagged template that escapes every interpolated value unless it is {@link SafeHTML}, so
 * that no user-controlled string (email, user agent, IP) can inject markup. Arrays are joined;
 * null, undefined and false render as nothing.
 *
 * @example
 * ```ts
 * html`<p>Signed in as ${user.email}</p>`;
 * ```
 */
export function html(strings: TemplateStringsArray, ...values: unknown[]): SafeHTML {
  let out = strings[0] ?? '';
  values.forEach((value, index) => {
    out += render(value) + (strings[index + 1] ?? '');
  });
  return new SafeHTML(out);
}

function render(value: unknown): string {
  if (value instanceof SafeHTML) return value.value;
  if (Array.isArray(value)) return value.map(render).join('');
  if (value === null || value === undefined || value === false) return '';
  if (value instanceof Date) return escapeHTML(value.toISOString());
  if (typeof value === 'string') return escapeHTML(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return escapeHTML(JSON.stringify(value) ?? '');
}

const STYLE = `
  body { font: 16px/1.5 system-ui, sans-serif; max-width: 46rem; margin: 2rem auto; padding: 0 1rem; color: #1d1d1f; }
  nav { display: flex; gap: 1rem; align-items: center; border-bottom: 1px solid #ddd; padding-bottom: .5rem; }
  nav form { margin: 0; }
  label { display: block; margin: .5rem 0; }
  input[type=email], input[type=password] { display: block; width: 100%; max-width: 22rem; padding: .3rem; }
  button { padding: .3rem .8rem; }
  table { border-collapse: collapse; width: 100%; }
  th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid #eee; vertical-align: top; }
  .error { color: #a40000; }
  .note { color: #555; font-size: .9rem; }
`;

/** The page shell. `email` is the signed-in user, or null. */
export function layout(options: {
  readonly title: string;
  readonly email: string | null;
  readonly csrf: string | null;
  readonly body: SafeHTML;
}): string {
  const { title, email, csrf, body } = options;
  const nav =
    email === null
      ? html`<a href="/">Home</a> <a href="/login">Sign in</a> <a href="/signup">Create account</a>`
      : html`<a href="/">Home</a> <a href="/account">Account</a>
          <a href="/account/sessions">Sessions</a>
          <form method="post" action="/logout">
            ${csrfField(csrf ?? '')}<button>Sign out</button>
          </form>`;
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${title} · Strongroom demo</title>
        <style>
          ${new SafeHTML(STYLE)}
        </style>
      </head>
      <body>
        <nav>${nav}</nav>
        <main>
          <h1>${title}</h1>
          ${body}
        </main>
      </body>
    </html> `.value;
}

export function csrfField(token: string): SafeHTML {
  return html`<input type="hidden" name="_csrf" value="${token}" />`;
}
