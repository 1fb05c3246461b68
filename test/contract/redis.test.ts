import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe } from 'vitest';
import { createRedisStore } from '../../src/stores/redis.js';
import { describeStoreContract } from '../../src/testing/store-contract.js';
import { serviceAvailable } from '../support/services.js';
import { OutageProxy } from '../support/tcp-proxy.js';
import { deleteKeys, freshPrefix } from './redis-support.js';

const REDIS_PORT = 6379;
const available = await serviceAvailable('Redis', REDIS_PORT);

describe.skipIf(!available)('redis', () => {
  const proxy = new OutageProxy(REDIS_PORT);
  const proxyUrl = (): string => `redis://127.0.0.1:${proxy.port}`;
  const admin = new Redis({ port: REDIS_PORT, lazyConnect: true });
  admin.on('error', () => {});
  // The application's own client in the second run, routed through the proxy too, with
  // ioredis's default options (it queues commands and retries them 20 times): the store must
  // still fail fast during the outage.
  let appClient: Redis;
  const prefixes: string[] = [];

  function prefix(): string {
    const value = freshPrefix();
    prefixes.push(value);
    return value;
  }

  beforeAll(async () => {
    await proxy.start();
    await admin.connect();
    appClient = new Redis(proxyUrl());
    appClient.on('error', () => {});
  });

  afterEach(async () => {
    for (const value of prefixes.splice(0)) await deleteKeys(admin, value);
  });

  afterAll(async () => {
    appClient.disconnect();
    await proxy.stop();
    await admin.quit();
  });

  describeStoreContract('redis (own client from url, through an outage proxy)', {
    open: () => Promise.resolve(createRedisStore({ url: proxyUrl(), keyPrefix: prefix() })),
    stop: () => proxy.stop(),
    start: () => proxy.start(),
    expiry: 'native-ttl',
  });

  describeStoreContract('redis (caller client, per-slot cluster protocol on one node)', {
    open: () =>
      Promise.resolve(
        createRedisStore({ client: appClient, keyPrefix: prefix(), topology: 'cluster' }),
      ),
    stop: () => proxy.stop(),
    start: () => proxy.start(),
    expiry: 'native-ttl',
  });
});
