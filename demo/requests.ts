import type { Request, Response } from 'express';

/** API paths, and clients that prefer JSON to HTML, get JSON errors. */
export function wantsJSON(req: Request): boolean {
  return req.path.startsWith('/api/') || req.accepts(['html', 'json']) === 'json';
}

/** A string field of the parsed form or JSON body, or null (absent, or not a string). */
export function stringField(req: Request, name: string): string | null {
  const body: unknown = req.body;
  if (typeof body !== 'object' || body === null || !Object.hasOwn(body, name)) return null;
  const value: unknown = (body as Record<string, unknown>)[name];
  return typeof value === 'string' ? value : null;
}

/**
 * SM-49: on sign-out the browser drops cached pages, cookies and storage of this origin. Only
 * over HTTPS: browsers ignore it on insecure origins, and it would also wipe other apps' data
 * sharing http://localhost.
 */
export function clearSiteData(req: Request, res: Response): void {
  if (req.secure) res.setHeader('Clear-Site-Data', '"cache", "cookies", "storage"');
}
