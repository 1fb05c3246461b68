import type { Response } from 'express';

type Method = (...args: unknown[]) => unknown;

/**
 * Holds the response until the session is saved: the first `res.write()` (while the headers
 * are unsent) or `res.end()` that finds a change starts the save, and every write and end
 * waits for it. So a login's cookie goes out with the response it belongs to, and a save that
 * fails becomes the response (a 503 through the app's error handlers) instead of being lost
 * after the page was sent. The owner's `saveFailed` gets the error, with the app's headers
 * removed when none were sent yet.
 */
export interface HeldResponseOwner {
  /** The save to wait for, or null when nothing changed. */
  saveAtEnd(res: Response): Promise<void> | null;
  saveFailed(error: unknown): void;
}

export function saveBeforeResponding(res: Response, owner: HeldResponseOwner): void {
  const write = res.write.bind(res) as Method;
  const end = res.end.bind(res) as Method;
  let held: (() => void)[] | null = null;
  let failed = false;

  function start(saving: Promise<void>, first: () => void): void {
    held = [first];
    saving.then(release, (error: unknown) => {
      held = null;
      failed = true;
      if (!res.headersSent) {
        for (const name of res.getHeaderNames()) res.removeHeader(name);
        res.statusCode = 200;
      }
      owner.saveFailed(error);
    });
  }

  function release(): void {
    const calls = held ?? [];
    held = null;
    for (const call of calls) call();
  }

  res.write = function heldWrite(...args: unknown[]): boolean {
    const call = (): unknown => write(...args);
    if (held !== null) {
      held.push(call);
      return true;
    }
    const saving = failed || res.headersSent ? null : owner.saveAtEnd(res);
    if (saving === null) return call() as boolean;
    start(saving, call);
    return true;
  } as Response['write'];

  res.end = function heldEnd(...args: unknown[]): Response {
    const call = (): unknown => end(...args);
    if (held !== null) {
      held.push(call);
      return res;
    }
    const saving = failed ? null : owner.saveAtEnd(res);
    if (saving === null) return call() as Response;
    start(saving, call);
    return res;
  } as Response['end'];
}
