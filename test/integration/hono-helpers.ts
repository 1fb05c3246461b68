/** Serving a Hono app on its Node server (`@hono/node-server`) for the Hono adapter's tests. */
import { serve, type HttpBindings } from '@hono/node-server';
import type { Context, Hono } from 'hono';
import type { WebConnection } from '../../src/adapters/hono.js';
import { loopbackProxy, type WebServer } from './web-helpers.js';

/** Serves `app` on 127.0.0.1 on a free port. */
export function serveHono<App extends Pick<Hono, 'fetch'>>(app: App): Promise<WebServer> {
  return new Promise((resolve) => {
    const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => {
      const { port } = info;
      resolve({
        url: `http://127.0.0.1:${port}`,
        close: () =>
          new Promise((done) => {
            server.close(() => done());
            if ('closeAllConnections' in server) server.closeAllConnections();
          }),
      });
    });
  });
}

/** The scenario table's trusted loopback proxy, read from the node-server socket. */
export function honoLoopbackProxy(c: Context): WebConnection {
  const { incoming } = c.env as HttpBindings;
  return loopbackProxy(incoming.socket.remoteAddress, c.req.raw.headers);
}
