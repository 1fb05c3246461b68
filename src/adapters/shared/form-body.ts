import { isUnsafeMethod } from '../../csrf/request-check.js';

/** The content types of HTML form posts, the bodies that carry a `_csrf` field. */
export const FORM_TYPES: ReadonlySet<string> = new Set([
  'application/x-www-form-urlencoded',
  'multipart/form-data',
]);

/** The request headers {@link announcesFormBody} reads, as received. */
export interface FormPostHeaders {
  readonly method: string;
  readonly csrfHeader: string | readonly string[] | undefined;
  readonly contentType: string | undefined;
  readonly transferEncoding: string | undefined;
  readonly contentLength: string | undefined;
}

/**
 * Whether an unsafe request announced a form body and sent no `X-CSRF-Token` header instead:
 * if no parser had read that body when the session middleware ran, a `token-missing` CSRF
 * failure is the app's mounting order, not a forgery. The adapter decides whether the body had
 * been read (a parser that read it has consumed the stream; one for another type has not).
 */
export function announcesFormBody(request: FormPostHeaders): boolean {
  if (!isUnsafeMethod(request.method) || request.csrfHeader !== undefined) return false;
  const type = request.contentType?.split(';', 1)[0]?.trim().toLowerCase();
  if (type === undefined || !FORM_TYPES.has(type)) return false;
  return request.transferEncoding !== undefined || Number(request.contentLength) > 0;
}

/** What a `token-missing` error says when the form body had not been parsed yet. */
export function bodyNotParsedHint(parseBody: string): string {
  return `The form body had not been parsed when the Strongroom middleware ran, so its _csrf field could not be read: ${parseBody}, or send the token in the X-CSRF-Token header`;
}
