import { Cluster } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe } from 'vitest';
import { createRedisStore } from '../../src/stores/redis.js';
import { describeStoreContract } from '../../src/testing/store-contract.js';
import { serviceAvailable } from '../support/services.js';
import { OutageProxy } from '../support/tcp-proxy.js';
import { deleteKeys, freshPrefix } from './redis-support.js';

/** The three masters `bash scripts/redis-cluster.sh start` runs. */
const NODE_PORTS = [7001, 7002, 7003];
const available = await serviceAvailable('Redis Cluster', NODE_PORTS[0] as number);

describe.skipIf(!available)('redis cluster', () => {
  // One relay per node. The nodes announce their real addresses in CLUSTER SLOTS; `natMap`
  // sends the client to the relays instead, so that stopping them is an outage of the cluster.
  const proxies = NODE_PORTS.map((nodePort) => ({ nodePort, relay: new OutageProxy(nodePort) }));
  const admin = new Cluster(NODE_PORTS.map((port) => ({ host: '127.0.0.1', port })));
  let appCluster: Cluster;
  const prefixes: string[] = [];

  function prefix(): string {
    const value = freshPrefix();
    prefixes.push(value);
    return value;
  }

  function openCluster(): Cluster {
    const cluster = new Cluster(
      proxies.map(({ relay }) => ({ host: '127.0.0.1', port: relay.port })),
      {
        natMap: Object.fromEntries(
          proxies.map(({ nodePort, relay }) => [
            `127.0.0.1:${nodePort}`,
            { host: '127.0.0.1', port: relay.port },
          ]),
        ),
        redisOptions: { maxRetriesPerRequest: 1 },
      },
    );
    cluster.on('error', () => {});
    return cluster;
  }

  const stop = async (): Promise<void> => {
    await Promise.all(proxies.map(({ relay }) => relay.stop()));
  };
  const start = async (): Promise<void> => {
    await Promise.all(proxies.map(({ relay }) => relay.start()));
  };

  beforeAll(async () => {
    await start();
    appCluster = openCluster();
  });

  afterEach(async () => {
    for (const value of prefixes.splice(0)) await deleteKeys(admin, value);
  });

  afterAll(async () => {
    appCluster.disconnect();
    await stop();
    await admin.quit();
  });

  describeStoreContract('redis cluster (3 masters, through outage proxies)', {
    open: () => Promise.resolve(createRedisStore({ client: appCluster, keyPrefix: prefix() })),
    stop,
    start,
    expiry: 'native-ttl',
  });
});
