import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const source = (path: string): string => fileURLToPath(new URL(`./src/${path}`, import.meta.url));

export default defineConfig({
  resolve: {
    // Tests and the demo import the package by its public name; resolve it to source, not dist.
    alias: [
      { find: /^strongroom$/, replacement: source('index.ts') },
      { find: /^strongroom\/errors$/, replacement: source('core/errors.ts') },
      { find: /^strongroom\/store$/, replacement: source('store.ts') },
      { find: /^strongroom\/csrf$/, replacement: source('csrf/index.ts') },
      {
        find: /^strongroom\/(express|express-session|fastify|web|hono)$/,
        replacement: source('adapters/$1.ts'),
      },
      {
        find: /^strongroom\/stores\/(memory|sqlite|redis|postgres)$/,
        replacement: source('stores/$1.ts'),
      },
      { find: /^strongroom\/testing$/, replacement: source('testing/store-contract.ts') },
    ],
  },
  test: {
    include: ['test/**/*.test.ts'],
    // Starts the local Redis Cluster when it is down and redis-server is installed.
    globalSetup: ['test/setup/redis-cluster.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
  },
});
