import { afterEach, beforeEach, vi, type MockInstance } from 'vitest';

/**
 * Silences and records process warnings for every test of the calling file; the function it
 * returns gives the messages of the warnings emitted with `code` in the current test.
 */
export function captureWarnings(): (code: string) => string[] {
  let emitWarning: MockInstance<typeof process.emitWarning>;
  beforeEach(() => {
    emitWarning = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
  });
  afterEach(() => {
    emitWarning.mockRestore();
  });
  return (code) =>
    emitWarning.mock.calls
      .filter(([, options]) => typeof options === 'object' && options?.code === code)
      .map(([message]) => String(message));
}
