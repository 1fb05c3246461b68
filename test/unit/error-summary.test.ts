import { describe, expect, it } from 'vitest';
import { summarizeError } from '../../src/core/error-summary.js';

const withCode = (message: string, code: string): Error =>
  Object.assign(new Error(message), { code });

describe('summarizeError: the log-safe cause of a store.failed event', () => {
  it('gives the code, then the message', () => {
    expect(summarizeError(withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED'))).toBe(
      'ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:5432',
    );
    expect(summarizeError(withCode('password authentication failed for user "app"', '28P01'))).toBe(
      '28P01: password authentication failed for user "app"',
    );
    expect(summarizeError(new Error('Connection terminated unexpectedly'))).toBe(
      'Connection terminated unexpectedly',
    );
    expect(summarizeError('a thrown string')).toBe('a thrown string');
  });

  it('masks the password of a URL, keeping the user and the host', () => {
    expect(
      summarizeError(
        new Error('cannot connect to postgres://app:hunter2@db.internal:5432/app (timeout)'),
      ),
    ).toBe('cannot connect to postgres://app:***@db.internal:5432/app (timeout)');
    expect(summarizeError(new Error('rediss://:p%40ss@cache:6380 refused'))).toBe(
      'rediss://:***@cache:6380 refused',
    );
    expect(summarizeError(new Error('redis://cache:6379 refused'))).toBe(
      'redis://cache:6379 refused',
    );
  });

  it('masks password and secret settings', () => {
    expect(
      summarizeError(new Error("bad dsn host=db password='s3 cret' user=app; token: abc")),
    ).toBe('bad dsn host=db password=*** user=app; token: ***');
  });

  it('elides long opaque strings, which could be a token or a key', () => {
    const token = 'Qm9vdHN0cmFwX3Rva2VuXzEyMzQ1Njc4OTBhYmNkZWY';
    expect(summarizeError(new Error(`no session for ${token}`))).toBe('no session for [redacted]');
    // Long words without digits are ordinary text and stay.
    expect(summarizeError(new Error('strongroom_sessions_user_id_index_is_missing_here'))).toBe(
      'strongroom_sessions_user_id_index_is_missing_here',
    );
  });

  it('is one line of at most 300 characters', () => {
    const summary = summarizeError(new Error(`first line\n  second line ${'x '.repeat(400)}`));
    expect(summary).not.toMatch(/\n/);
    expect(summary.startsWith('first line second line x x')).toBe(true);
    expect(summary).toHaveLength(300);
    expect(summary.endsWith('…')).toBe(true);
  });

  it('reads the causes of an AggregateError without a message (a refused `localhost`)', () => {
    const error = Object.assign(
      new AggregateError([
        withCode('connect ECONNREFUSED ::1:5432', 'ECONNREFUSED'),
        withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED'),
      ]),
      { code: 'ECONNREFUSED' },
    );
    expect(summarizeError(error)).toBe(
      'ECONNREFUSED: connect ECONNREFUSED ::1:5432; connect ECONNREFUSED 127.0.0.1:5432',
    );
  });
});
