import { describe, expect, it } from 'vitest';
import { classifyDatabaseError, isDatabaseUnavailable } from './database-errors.js';

const withCode = (code: string, message = 'failure') => Object.assign(new Error(message), { code });

describe('classifyDatabaseError', () => {
  it.each([
    ['ECONNREFUSED', withCode('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432')],
    ['ECONNRESET', withCode('ECONNRESET', 'read ECONNRESET')],
    ['ETIMEDOUT', withCode('ETIMEDOUT')],
    ['EPIPE', withCode('EPIPE')],
    ['ENOTFOUND (DNS)', withCode('ENOTFOUND', 'getaddrinfo ENOTFOUND db')],
    ['57P01 admin_shutdown', withCode('57P01', 'terminating connection due to administrator command')],
    ['57P02 crash_shutdown', withCode('57P02')],
    ['57P03 cannot_connect_now', withCode('57P03', 'the database system is starting up')],
    ['53300 too_many_connections', withCode('53300')],
    [
      '57014 query_canceled (statement_timeout)',
      withCode('57014', 'canceling statement due to statement timeout'),
    ],
    ['08006 connection_failure', withCode('08006')],
    ['08001 unable to connect', withCode('08001')],
    ['08P01 protocol violation (class 08)', withCode('08P01')],
    ['pg-pool connect timeout', new Error('timeout exceeded when trying to connect')],
    ['pg lost connection', new Error('Connection terminated unexpectedly')],
    ['pg connect timeout', new Error('Connection terminated due to connection timeout')],
    ['pg client unusable', new Error('Client has encountered a connection error and is not queryable')],
  ])('%s is unavailable', (_name, error) => {
    expect(classifyDatabaseError(error)).toBe('unavailable');
    expect(isDatabaseUnavailable(error)).toBe(true);
  });

  it.each([
    ['SQLITE_BUSY', withCode('SQLITE_BUSY', 'database is locked')],
    ['SQLITE_BUSY_SNAPSHOT', withCode('SQLITE_BUSY_SNAPSHOT')],
    ['SQLITE_LOCKED', withCode('SQLITE_LOCKED')],
  ])('%s is busy (also a 503)', (_name, error) => {
    expect(classifyDatabaseError(error)).toBe('busy');
    expect(isDatabaseUnavailable(error)).toBe(true);
  });

  it.each([
    ['a unique violation', withCode('23505', 'duplicate key value violates unique constraint')],
    ['a syntax error', withCode('42601')],
    ['an undefined table', withCode('42P01', 'relation "messages" does not exist')],
    ['a SQLite constraint', withCode('SQLITE_CONSTRAINT_UNIQUE')],
    ['a SQLite error', withCode('SQLITE_ERROR', 'no such table: messages')],
    ['a plain error', new Error('boom')],
    ['a numeric code', Object.assign(new Error('x'), { code: 8006 })],
    ['a string', 'ECONNREFUSED'],
    ['null', null],
    ['undefined', undefined],
  ])('%s is other', (_name, error) => {
    expect(classifyDatabaseError(error)).toBe('other');
  });

  it('follows causes and AggregateErrors', () => {
    const wrapped = new Error('migration failed', { cause: withCode('ECONNREFUSED') });
    expect(classifyDatabaseError(wrapped)).toBe('unavailable');
    const aggregate = new AggregateError([new Error('x'), withCode('ECONNREFUSED')], 'connect failed');
    expect(classifyDatabaseError(aggregate)).toBe('unavailable');
    expect(classifyDatabaseError(new Error('tx', { cause: withCode('SQLITE_BUSY') }))).toBe('busy');
  });

  it('stops on a cause cycle', () => {
    const a = new Error('a');
    const b = new Error('b', { cause: a });
    (a as { cause?: unknown }).cause = b;
    expect(classifyDatabaseError(a)).toBe('other');
  });
});
