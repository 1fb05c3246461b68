import type { Express } from 'express';
import type { DemoContext } from '../demo-context.js';
import { sendHomePage } from '../pages.js';

/** `GET /`: says whether the visitor is signed in. */
export function registerHomeRoutes(app: Express, context: DemoContext): void {
  app.get('/', (req, res) => {
    sendHomePage(res, context.visitors.get(req));
  });
}
