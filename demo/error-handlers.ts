import type { ErrorRequestHandler, Request, RequestHandler, Response } from 'express';
import { CSRFError } from 'strongroom';
import { sendCSRFRejectedPage, sendNotFoundPage } from './pages.js';
import { wantsJSON } from './requests.js';
import type { Visitors } from './visitors.js';

/** 404 as JSON or as a page. */
export function sendNotFound(visitors: Visitors, req: Request, res: Response): void {
  if (wantsJSON(req)) {
    res.status(404).json({ error: 'Not found' });
    return;
  }
  sendNotFoundPage(res, visitors.find(req));
}

/** Unknown routes, GET /logout included (logout is POST only, SM-26). */
export function notFoundHandler(visitors: Visitors): RequestHandler {
  return (req, res) => {
    sendNotFound(visitors, req, res);
  };
}

/** The library refused the request (and emitted `csrf.rejected`); nothing was changed. */
export const rejectCSRF: ErrorRequestHandler = (error: unknown, req, res, next) => {
  if (!(error instanceof CSRFError) || res.headersSent) {
    next(error);
    return;
  }
  if (wantsJSON(req)) {
    res
      .status(403)
      .json({ error: 'Forbidden: the request failed the cross-site request forgery check' });
    return;
  }
  sendCSRFRejectedPage(res);
};

/**
 * The last handler. Malformed bodies, oversized payloads, bad URL encodings: the client's
 * fault, never a 5xx. Anything else is logged and answered 500 without details.
 */
export const finalErrorHandler: ErrorRequestHandler = (error: unknown, req, res, next) => {
  if (res.headersSent) {
    next(error);
    return;
  }
  const status = statusOf(error);
  if (status >= 400 && status < 500) {
    const message = status === 413 ? 'Request too large' : 'Bad request';
    if (wantsJSON(req)) res.status(status).json({ error: message });
    else res.status(status).type('text/plain').send(message);
    return;
  }
  console.error('demo: unhandled error', error);
  if (wantsJSON(req)) res.status(500).json({ error: 'Internal server error' });
  else res.status(500).type('text/plain').send('Internal server error');
};

function statusOf(error: unknown): number {
  if (typeof error !== 'object' || error === null) return 500;
  const { status, statusCode } = error as { status?: unknown; statusCode?: unknown };
  const value = typeof status === 'number' ? status : statusCode;
  return typeof value === 'number' && Number.isInteger(value) ? value : 500;
}
