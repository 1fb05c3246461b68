/** A fake clock for the `runtime.now` (or a store's `now`) of a test: time moves only when told. */
export interface Clock {
  now: number;
  advance(seconds: number): void;
}

/** A {@link Clock} at `start` (by default 27 November 2026, 12:00 UTC). */
export function createClock(start = Date.UTC(2026, 10, 27, 12)): Clock {
  return {
    now: start,
    advance(seconds) {
      this.now += seconds * 1000;
    },
  };
}
