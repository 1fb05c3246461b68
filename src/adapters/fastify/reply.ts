import type { FastifyReply } from 'fastify';
import {
  ANSWER_HEADERS,
  REPRESENTATION_HEADERS,
  type AnswerBody,
  type ErrorAnswer,
} from '../shared/error-answers.js';
import { CACHE_CONTROL_PRIVATE } from '../shared/response-headers.js';
import { headerValues } from '../shared/set-cookie.js';

/**
 * Adds `entries` (`Cookie` or `Origin, Sec-Fetch-Site, Cookie`) to the reply's `Vary`, after
 * whatever the app or another plugin set, each field named once whatever its case (SM-47).
 * Fastify has no `vary()` of its own, and `reply.header()` replaces the value.
 */
export function addVary(reply: FastifyReply, entries: string): void {
  const current = reply.getHeader('vary');
  if (current === undefined) {
    reply.header('vary', entries);
    return;
  }
  // The common case, checked again in onSend: nobody changed what the plugin set.
  if (current === entries) return;
  const merged = mergeVary(headerValues(current).join(', '), entries);
  if (merged !== null) reply.header('vary', merged);
}

/** `current` with the entries it lacks appended, or null when it needs none. */
function mergeVary(current: string, entries: string): string | null {
  const named = new Set(current.split(',').map((field) => field.trim().toLowerCase()));
  // `Vary: *` already says that the answer depends on everything.
  if (named.has('*')) return null;
  named.delete('');
  const missing = entries.split(', ').filter((field) => !named.has(field.toLowerCase()));
  if (missing.length === 0) return null;
  return named.size === 0 ? missing.join(', ') : `${current}, ${missing.join(', ')}`;
}

/** SM-48: responses that carry or depend on a session are never cached. */
export function markPrivate(reply: FastifyReply): void {
  reply.header('cache-control', CACHE_CONTROL_PRIVATE);
}

/**
 * Sends `body` in place of whatever the app meant to send. As a buffer, so that no serializer
 * the app set on the reply encodes the text again and the `Content-Type` stays the body's.
 */
export function sendBody(reply: FastifyReply, status: number, body: AnswerBody): void {
  for (const name of REPRESENTATION_HEADERS) reply.removeHeader(name);
  reply.header('content-type', body.contentType);
  for (const [name, value] of ANSWER_HEADERS) reply.header(name, value);
  reply.code(status).send(Buffer.from(body.text, 'utf8'));
}

/** Sends an error answer: its headers, `Vary: Accept` when it was negotiated, its body. */
export function sendAnswer(reply: FastifyReply, answer: ErrorAnswer): void {
  for (const [name, value] of answer.headers) reply.header(name, value);
  if (answer.varyAccept) addVary(reply, 'Accept');
  sendBody(reply, answer.status, answer.body);
}
