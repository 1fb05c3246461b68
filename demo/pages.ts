import type { Response } from 'express';
import type { SessionInfo } from 'strongroom';
import { csrfField, html, layout, type SafeHTML } from './html.js';
import { MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, type User } from './users.js';
import type { Visitor } from './visitors.js';

/**
 * Every HTML page of the demo. The texts are part of the documented demo (DEMO-CONTRACT.md):
 * tests and the README quote them.
 */

/**
 * Sends a page in the layout. `csrf` is the token the body's forms already carry; otherwise a
 * signed-in visitor's navigation gets a fresh one for its sign-out form.
 */
export function sendPage(
  res: Response,
  status: number,
  title: string,
  visitor: Visitor,
  body: SafeHTML,
  csrf: string | null,
): void {
  const token = csrf ?? (visitor.user === null ? null : visitor.session.csrfToken());
  res
    .status(status)
    .type('html')
    .send(layout({ title, email: visitor.user?.email ?? null, csrf: token, body }));
}

/** A page for a request no visitor was resolved for (it failed before the session). */
function sendAnonymousPage(res: Response, status: number, title: string, body: SafeHTML): void {
  res
    .status(status)
    .type('html')
    .send(layout({ title, email: null, csrf: null, body }));
}

export function sendHomePage(res: Response, visitor: Visitor): void {
  const body =
    visitor.user === null
      ? html`<p>You are not signed in.</p>
          <p><a href="/login">Sign in</a> or <a href="/signup">create an account</a>.</p>`
      : html`<p>You are signed in as <strong>${visitor.user.email}</strong>.</p>
          <p>
            <a href="/account">Your account</a> · <a href="/account/sessions">Your sessions</a>
          </p>`;
  sendPage(res, 200, 'Welcome', visitor, body, null);
}

export function sendLoginPage(
  res: Response,
  visitor: Visitor,
  status: number,
  error: string | null,
): void {
  const csrf = visitor.session.csrfToken();
  const body = html`${error === null ? '' : html`<p class="error">${error}</p>`}
    ${visitor.user === null ? '' : html`<p class="note">You are signed in as ${visitor.user.email}; signing in again switches the account.</p>`}
    <form method="post" action="/login">
      ${csrfField(csrf)}
      <label>Email <input type="email" name="email" autocomplete="username" required /></label>
      <label
        >Password <input type="password" name="password" autocomplete="current-password" required
      /></label>
      <button>Sign in</button>
    </form>
    <p>No account? <a href="/signup">Create one</a>.</p>`;
  sendPage(res, status, 'Sign in', visitor, body, csrf);
}

export function sendSignupPage(
  res: Response,
  visitor: Visitor,
  status: number,
  error: string | null,
): void {
  const csrf = visitor.session.csrfToken();
  const body = html`${error === null ? '' : html`<p class="error">${error}</p>`}
    <form method="post" action="/signup">
      ${csrfField(csrf)}
      <label>Email <input type="email" name="email" autocomplete="username" required /></label>
      <label
        >Password (at least ${MIN_PASSWORD_LENGTH} characters)
        <input
          type="password"
          name="password"
          autocomplete="new-password"
          minlength="${MIN_PASSWORD_LENGTH}"
          required
      /></label>
      <button>Create account</button>
    </form>`;
  sendPage(res, status, 'Create an account', visitor, body, csrf);
}

export function sendAccountPage(
  res: Response,
  visitor: Visitor,
  user: User,
  status: number,
  message: SafeHTML | null,
): void {
  const csrf = visitor.session.csrfToken();
  const s = visitor.session;
  const body = html`${message ?? ''}
    <p>Signed in as <strong>${user.email}</strong>.</p>
    <dl>
      <dt>Session created</dt>
      <dd><time>${s.createdAt}</time></dd>
      <dt>Signed in at</dt>
      <dd><time>${s.authenticatedAt}</time></dd>
      <dt>Ends if idle until</dt>
      <dd><time>${s.idleExpiresAt}</time></dd>
      <dt>Ends at the latest</dt>
      <dd><time>${s.absoluteExpiresAt}</time></dd>
    </dl>
    <p><a href="/account/sessions">Your sessions and devices</a></p>
    <h2>Change password</h2>
    <form method="post" action="/account/password">
      ${csrfField(csrf)}
      <label
        >Current password
        <input type="password" name="current" autocomplete="current-password" required
      /></label>
      <label
        >New password
        <input
          type="password"
          name="next"
          autocomplete="new-password"
          minlength="${MIN_PASSWORD_LENGTH}"
          required
      /></label>
      <button>Change password</button>
    </form>
    <p class="note">Changing the password signs out every other device.</p>
    <h2>Sign out</h2>
    <form method="post" action="/logout">${csrfField(csrf)}<button>Sign out</button></form>
    <form method="post" action="/logout-everywhere">
      ${csrfField(csrf)}<button>Sign out everywhere</button>
    </form>`;
  sendPage(res, status, 'Your account', visitor, body, csrf);
}

/** The account page's message when the new password is too short or too long. */
export function newPasswordRejected(): SafeHTML {
  return html`<p class="error">
    The new password needs ${MIN_PASSWORD_LENGTH} to ${MAX_PASSWORD_LENGTH} characters.
  </p>`;
}

/** The account page's message when the current password did not match. */
export function currentPasswordWrong(): SafeHTML {
  return html`<p class="error">The current password is wrong.</p>`;
}

/** 401: the password change needs a sign-in fresher than `freshAgeSeconds`. */
export function sendReauthenticationPage(res: Response, visitor: Visitor): void {
  const body = html`<p class="error">Changing your password needs a recent sign-in.</p>
    <p><a href="/login">Sign in again</a>, then retry. Your password was not changed.</p>`;
  sendPage(res, 401, 'Please sign in again', visitor, body, null);
}

function sessionRow(info: SessionInfo, csrf: string): SafeHTML {
  return html`<tr>
    <td><time>${info.createdAt}</time></td>
    <td><time>${info.lastSeenAt}</time></td>
    <td>${info.userAgent ?? 'unknown'}</td>
    <td>${info.ip ?? 'unknown'}</td>
    <td>${info.current ? html`<strong>this device</strong>` : ''}</td>
    <td>
      <form method="post" action="/account/sessions/${encodeURIComponent(info.id)}/revoke">
        ${csrfField(csrf)}<button>${info.current ? 'Sign out' : 'Revoke'}</button>
      </form>
    </td>
  </tr>`;
}

export function sendSessionsPage(
  res: Response,
  visitor: Visitor,
  user: User,
  list: readonly SessionInfo[],
): void {
  const csrf = visitor.session.csrfToken();
  const rows = list.map((info) => sessionRow(info, csrf));
  const body = html`<p>
      ${list.length} active ${list.length === 1 ? 'session' : 'sessions'} for ${user.email}.
    </p>
    <table>
      <thead>
        <tr>
          <th>Created</th>
          <th>Last seen</th>
          <th>Browser</th>
          <th>IP address</th>
          <th></th>
          <th></th>
        </tr>
      </thead>
      <tbody>
        ${rows}
      </tbody>
    </table>
    <form method="post" action="/logout-everywhere">
      ${csrfField(csrf)}<button>Sign out everywhere</button>
    </form>`;
  sendPage(res, 200, 'Your sessions', visitor, body, csrf);
}

/** 403 for a request the library's CSRF check refused. */
export function sendCSRFRejectedPage(res: Response): void {
  const body = html`<p class="error">
      This request failed the cross-site request forgery check, so nothing was changed.
    </p>
    <p><a href="/">Go back to the start page</a> and try again.</p>`;
  sendAnonymousPage(res, 403, 'Request refused', body);
}

/** 404, in the layout of the visitor when there is one. */
export function sendNotFoundPage(res: Response, visitor: Visitor | undefined): void {
  const body = html`<p>There is nothing here. <a href="/">Go to the start page</a>.</p>`;
  if (visitor === undefined) sendAnonymousPage(res, 404, 'Not found', body);
  else sendPage(res, 404, 'Not found', visitor, body, null);
}
