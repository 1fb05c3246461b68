import { createMemoryStore } from '../../src/stores/memory.js';
import { describeStoreContract } from '../../src/testing/store-contract.js';
import { switchableStore, type SwitchableStore } from '../support/store-wrappers.js';

describeStoreContract('memory', {
  open: () => Promise.resolve(createMemoryStore()),
});

/**
 * The memory store behind a switch that makes every call fail, as a network store does when
 * its server is down: runs the suite's outage cases, which no local store can exercise.
 */
let switchable: SwitchableStore;

describeStoreContract('memory behind a fault switch', {
  open: () => {
    switchable = switchableStore(createMemoryStore());
    return Promise.resolve(switchable);
  },
  stop: () => {
    switchable.down = true;
    return Promise.resolve();
  },
  start: () => {
    switchable.down = false;
    return Promise.resolve();
  },
});
