import type { Response } from 'express';
import {
  ANSWER_HEADERS,
  REPRESENTATION_HEADERS,
  type AnswerBody,
  type ErrorAnswer,
} from '../shared/error-answers.js';
import { CACHE_CONTROL_PRIVATE, varyFor } from '../shared/response-headers.js';

/** Adds the session middleware's `Vary` entries, merged with any the app had set. */
export function varyOnSession(res: Response, method: string): void {
  const vary = varyFor(method);
  if (res.hasHeader('Vary')) res.vary(vary);
  else res.setHeader('Vary', vary);
}

/** SM-48: responses that carry or depend on a session are never cached. */
export function markPrivate(res: Response): void {
  res.setHeader('Cache-Control', CACHE_CONTROL_PRIVATE);
}

/** Sends `body` in place of whatever the app meant to send. */
export function sendBody(res: Response, status: number, body: AnswerBody): void {
  for (const name of REPRESENTATION_HEADERS) res.removeHeader(name);
  res.setHeader('Content-Type', body.contentType);
  for (const [name, value] of ANSWER_HEADERS) res.setHeader(name, value);
  res.status(status).send(body.text);
}

export function sendAnswer(res: Response, answer: ErrorAnswer): void {
  for (const [name, value] of answer.headers) res.setHeader(name, value);
  if (answer.varyAccept) res.vary('Accept');
  sendBody(res, answer.status, answer.body);
}
