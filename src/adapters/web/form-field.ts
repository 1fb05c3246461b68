import { FORM_TYPES } from '../shared/form-body.js';

/**
 * What a form body offered as `_csrf`: `absent` (no form, no field, a malformed or unreadable
 * body), `oversized` (more than the limit: not read), or the field's `value`: a string, or the
 * list of values of a repeated field, which the core refuses as malformed (SM-39).
 */
export type FormField =
  | { readonly kind: 'absent' }
  | { readonly kind: 'oversized' }
  | { readonly kind: 'found'; readonly value: string | readonly unknown[] };

export const NO_FIELD: FormField = { kind: 'absent' };
export const OVERSIZED: FormField = { kind: 'oversized' };

/** The request's `Content-Type` when it is a form's (urlencoded or multipart), else null. */
export function formContentType(headers: Headers): string | null {
  const contentType = headers.get('content-type');
  if (contentType === null) return null;
  const type = contentType.split(';', 1)[0]?.trim().toLowerCase() ?? '';
  return FORM_TYPES.has(type) ? contentType : null;
}

/**
 * The `_csrf` field of a form post, read from a clone of the request so that the app can still
 * read the whole body afterwards. At most `limit` bytes are read, whatever `Content-Length`
 * says (it may be absent, or lie): a larger body is `oversized`, so that a client cannot make
 * the middleware buffer an upload of any size. A body that fails to parse is `absent`: the
 * core then refuses the request with `token-missing` (403), never a 500.
 */
export async function readFormField(
  request: Request,
  contentType: string,
  limit: number,
): Promise<FormField> {
  const declared = request.headers.get('content-length');
  if (declared !== null && Number(declared) > limit) return OVERSIZED;
  const body = cloneBody(request);
  if (body === null) return NO_FIELD;
  const bytes = await readAtMost(body, limit);
  if (bytes === 'oversized') return OVERSIZED;
  return bytes === 'failed' ? NO_FIELD : parseField(bytes, contentType);
}

/** A second reader of the body (the app keeps the first), or null when there is none to read. */
function cloneBody(request: Request): ReadableStream<Uint8Array> | null {
  if (request.bodyUsed || request.body === null || request.body.locked) return null;
  try {
    return request.clone().body;
  } catch {
    return null;
  }
}

/** The stream's bytes, or `oversized` as soon as it passes `limit` (the clone is cancelled). */
async function readAtMost(
  stream: ReadableStream<Uint8Array>,
  limit: number,
): Promise<Uint8Array | 'oversized' | 'failed'> {
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > limit) {
        // Cancelling a clone stops only this branch: the app's copy of the body stays whole.
        // Not awaited: a branch's cancel settles only once the other branch is cancelled too.
        reader.cancel().catch(() => undefined);
        return 'oversized';
      }
      chunks.push(value);
    }
  } catch {
    return 'failed';
  }
  const [first] = chunks;
  return chunks.length === 1 && first !== undefined ? first : concat(chunks, size);
}

function concat(chunks: readonly Uint8Array[], size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

/** Parses the body as the platform parses forms (`Response.formData()`), then takes `_csrf`. */
async function parseField(bytes: Uint8Array, contentType: string): Promise<FormField> {
  let form: FormData;
  try {
    form = await new Response(bytes, { headers: { 'content-type': contentType } }).formData();
  } catch {
    return NO_FIELD;
  }
  const values = form.getAll('_csrf');
  if (values.length > 1) return { kind: 'found', value: values };
  const [value] = values;
  // A file upload named `_csrf` is no token.
  return typeof value === 'string' ? { kind: 'found', value } : NO_FIELD;
}
