import type { SessionStore } from '../../src/core/store.js';
import { createMemoryStore } from '../../src/stores/memory.js';
import { describeStoreContract } from '../../src/testing/store-contract.js';

describeStoreContract('memory', {
  open: () => Promise.resolve(createMemoryStore()),
});

/**
 * The memory store behind a switch that makes every call fail, as a network store does when
 * its server is down: runs the suite's outage cases, which no local store can exercise.
 */
let down = false;

function behindSwitch(store: SessionStore): SessionStore {
  const guard =
    <A extends unknown[], R>(method: (...args: A) => Promise<R>) =>
    (...args: A): Promise<R> =>
      down ? Promise.reject(new Error('connection refused')) : method(...args);
  return {
    findByTokenHash: guard((hash) => store.findByTokenHash(hash)),
    findById: guard((id) => store.findById(id)),
    insert: guard((session, options) => store.insert(session, options)),
    update: guard((session, options) => store.update(session, options)),
    delete: guard((id) => store.delete(id)),
    deleteByUser: guard((userId, options) => store.deleteByUser(userId, options)),
    deleteAll: guard((options) => store.deleteAll(options)),
    listByUser: guard((userId, now) => store.listByUser(userId, now)),
    purgeExpired: guard((now, limit) => store.purgeExpired(now, limit)),
    close: () => store.close(),
  };
}

describeStoreContract('memory behind a fault switch', {
  open: () => {
    down = false;
    return Promise.resolve(behindSwitch(createMemoryStore()));
  },
  stop: () => {
    down = true;
    return Promise.resolve();
  },
  start: () => {
    down = false;
    return Promise.resolve();
  },
});
