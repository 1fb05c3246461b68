import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { ConfigError, type SessionStore } from 'strongroom';
import { createDemoApp, DEFAULT_DEMO_EMAIL, DEFAULT_DEMO_PASSWORD, type DemoApp } from './app.js';
import { loadKeys } from './demo-keys.js';
import { openDemoStore } from './demo-store.js';
import {
  findProjectRoot,
  port,
  publicOrigins,
  StartupError,
  timingFromEnvironment,
  trustProxy,
} from './environment.js';

/** `npm start`: the demo of DEMO-CONTRACT.md, configured from the environment. */
async function main(): Promise<void> {
  const env = process.env;
  const root = findProjectRoot();
  const dataDir = env.STRONGROOM_DATA_DIR?.trim() || join(root, '.data');
  const host = env.HOST?.trim() || '127.0.0.1';
  const listenPort = port(env);
  const timing = timingFromEnvironment(env);
  const keys = loadKeys(env, dataDir, root);
  const { store, label } = await openDemoStore(env, dataDir, root);

  let demo;
  try {
    demo = await createDemoApp({
      store,
      keys,
      dataDir,
      trustProxy: trustProxy(env),
      origins: publicOrigins(env, host, listenPort),
      demoEmail: env.DEMO_EMAIL?.trim() || DEFAULT_DEMO_EMAIL,
      demoPassword: env.DEMO_PASSWORD || DEFAULT_DEMO_PASSWORD,
      ...timing,
      // Demo-level events (CSRF rejections, failed logins) go to the same JSON log.
      onEvent: (event) => console.log(JSON.stringify(event)),
    });
  } catch (error) {
    await store.close();
    throw error;
  }
  // Lifecycle events carry public session ids, never tokens (SM-54): safe to log as they are.
  demo.sessions.on('*', (event) => console.log(JSON.stringify(event)));

  const server = await listen(demo, store, host, listenPort);
  const address = server.address() as AddressInfo;
  const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  console.log(`Strongroom demo on http://${shown}:${address.port} (store: ${label})`);
  process.once('SIGINT', (signal) => shutDown(server, demo, store, signal));
  process.once('SIGTERM', (signal) => shutDown(server, demo, store, signal));
}

/** Resolves once the server listens; closes everything when it cannot. */
async function listen(
  demo: DemoApp,
  store: SessionStore,
  host: string,
  listenPort: number,
): Promise<Server> {
  const server = demo.app.listen(listenPort, host);
  await new Promise<void>((resolveListen, rejectListen) => {
    server.once('listening', resolveListen);
    server.once('error', rejectListen);
  }).catch(async (error: unknown) => {
    await demo.close();
    await store.close();
    throw new StartupError(`cannot listen on ${host}:${listenPort}: ${(error as Error).message}`);
  });
  return server;
}

let stopping = false;

/** Stops accepting connections, lets in-flight requests finish, then closes and exits. */
function shutDown(server: Server, demo: DemoApp, store: SessionStore, signal: string): void {
  if (stopping) return;
  stopping = true;
  console.log(`Strongroom demo: ${signal}, shutting down`);
  server.close();
  server.closeIdleConnections();
  // In-flight requests get a moment to finish; then the rest are cut.
  const force = setTimeout(() => server.closeAllConnections(), 3_000);
  force.unref();
  server.once('close', () => {
    clearTimeout(force);
    demo
      .close()
      .then(() => store.close())
      .then(
        () => process.exit(0),
        (error: unknown) => {
          console.error('Strongroom demo: error while closing', error);
          process.exit(1);
        },
      );
  });
}

main().catch((error: unknown) => {
  if (error instanceof StartupError || error instanceof ConfigError) {
    console.error(`Strongroom demo cannot start: ${error.message}`);
  } else {
    console.error('Strongroom demo cannot start:', error);
  }
  process.exit(1);
});
