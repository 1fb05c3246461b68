import { STATUS_CODES } from 'node:http';
import type { StrongroomErrorCode } from '../../core/errors.js';

/**
 * What a person in a browser reads for each error: no error message (those are for logs and
 * may name configuration), no stack, nothing from the request.
 */
export function humanMessage(code: StrongroomErrorCode): string {
  switch (code) {
    case 'ERR_STORE_UNAVAILABLE':
      return 'The service is briefly unavailable. Please try again in a moment.';
    case 'ERR_SESSION_ENDED':
      return 'Your session has ended. Please sign in again.';
    case 'ERR_REAUTHENTICATION_REQUIRED':
      return 'This action needs a recent sign-in. Please sign in again.';
    case 'ERR_INSECURE_TRANSPORT':
      return 'This page can only be used over a secure (HTTPS) connection.';
    case 'ERR_CSRF':
      return 'This form has expired or was sent from another site. Go back, reload the page and try again.';
    case 'ERR_SESSION_LIMIT':
      return 'You are signed in on too many devices. Sign out on another device first.';
    case 'ERR_TOO_MANY_REQUESTS':
      return 'Too many requests. Please try again later.';
    case 'ERR_CONFIG':
    case 'ERR_STORE_CONFLICT':
    case 'ERR_INVALID_ARGUMENT':
      return 'Something went wrong on our side.';
  }
}

/** A minimal HTML page for an error status; every piece of text in it is escaped. */
export function errorPage(status: number, message: string): string {
  const title = escapeHTML(`${status} ${STATUS_CODES[status] ?? 'Error'}`);
  return (
    '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n' +
    '<meta name="viewport" content="width=device-width, initial-scale=1">\n' +
    `<title>${title}</title>\n</head>\n<body>\n<h1>${title}</h1>\n` +
    `<p>${escapeHTML(message)}</p>\n</body>\n</html>\n`
  );
}

const ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

function escapeHTML(text: string): string {
  return text.replace(/[&<>"']/g, (character) => ESCAPES[character] ?? character);
}
