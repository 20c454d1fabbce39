import { describe, expect, it } from 'vitest';
import { classifyCode, classifyFailure, isRetryableClass, type FailureClass } from './graph-error.js';
import type { SendFailure } from './whatsapp-client.js';

function graphFailure(whatsappCode: number, httpStatus: number): SendFailure {
  return {
    kind: 'graph_error',
    httpStatus,
    whatsappCode,
    message: `(#${whatsappCode}) some title`,
    details: null,
    fbtraceId: 'trace',
    retryAfterMs: null,
    isAmbiguous: false,
  };
}

function transportFailure(kind: SendFailure['kind'], httpStatus: number | null): SendFailure {
  return {
    kind,
    httpStatus,
    whatsappCode: null,
    message: 'transport',
    details: null,
    fbtraceId: null,
    retryAfterMs: null,
    isAmbiguous: true,
  };
}

/** Every row of shared/whatsapp-cloud-api.md §2.3 as this service classifies it, with Meta's usual HTTP status. */
const CODE_TABLE: [code: number, httpStatus: number, expected: FailureClass][] = [
  [0, 401, 'auth'],
  [3, 500, 'account'],
  [10, 403, 'account'],
  [190, 401, 'auth'],
  [190, 400, 'auth'],
  [200, 403, 'account'],
  [250, 403, 'account'],
  [299, 403, 'account'],
  [4, 429, 'transient'],
  [4, 400, 'transient'],
  [80007, 429, 'transient'],
  [130429, 429, 'throughput'],
  [130429, 400, 'throughput'],
  [131056, 429, 'pair_rate'],
  [131056, 400, 'pair_rate'],
  [131048, 429, 'account'],
  [133004, 503, 'transient'],
  [368, 403, 'account'],
  [131031, 403, 'account'],
  [130497, 403, 'account'],
  [1, 400, 'transient'],
  [2, 503, 'transient'],
  [33, 400, 'request'],
  [100, 400, 'request'],
  [130472, 400, 'recipient'],
  [131000, 500, 'transient'],
  [131005, 403, 'account'],
  [131008, 400, 'request'],
  [131009, 400, 'request'],
  [131016, 503, 'transient'],
  [131021, 400, 'request'],
  [131026, 400, 'recipient'],
  [131030, 400, 'request'],
  [131037, 400, 'account'],
  [131042, 400, 'account'],
  [131045, 400, 'account'],
  [131047, 400, 'window'],
  [131049, 400, 'recipient'],
  [131050, 400, 'recipient'],
  [131051, 400, 'request'],
  [131053, 400, 'request'],
  [131057, 503, 'transient'],
  [132000, 400, 'request'],
  [132001, 404, 'request'],
  [132005, 400, 'request'],
  [132007, 400, 'request'],
  [132012, 400, 'request'],
  [132015, 400, 'transient'],
  [132016, 400, 'request'],
  [132018, 400, 'request'],
  [132068, 400, 'request'],
  [132069, 400, 'request'],
  [133010, 400, 'account'],
  [135000, 400, 'request'],
];

describe('classifyFailure for Graph error codes', () => {
  it.each(CODE_TABLE)('code %i (HTTP %i) is %s', (code, httpStatus, expected) => {
    expect(classifyFailure(graphFailure(code, httpStatus))).toBe(expected);
  });

  it('decides on the code, not the HTTP status', () => {
    expect(classifyFailure(graphFailure(131030, 500))).toBe('request');
    expect(classifyFailure(graphFailure(131000, 400))).toBe('transient');
    expect(classifyFailure(graphFailure(131047, 429))).toBe('window');
  });

  it('keeps the range boundaries exact', () => {
    expect(classifyCode(199)).toBeNull();
    expect(classifyCode(300)).toBeNull();
    expect(classifyCode(131999)).toBeNull();
    expect(classifyCode(132070)).toBeNull();
  });

  it.each([
    [999_999, 500, 'transient'],
    [999_999, 503, 'transient'],
    [999_999, 429, 'transient'],
    [999_999, 400, 'request'],
    [131052, 400, 'request'],
    [133016, 400, 'request'],
  ] as const)('unknown code %i with HTTP %i is %s', (code, httpStatus, expected) => {
    expect(classifyFailure(graphFailure(code, httpStatus))).toBe(expected);
  });
});

describe('classifyFailure without a Graph code', () => {
  it.each([
    ['network', null, 'transient'],
    ['timeout', null, 'transient'],
    ['timeout', 200, 'transient'],
    ['invalid_response', 200, 'transient'],
    ['http_error', 500, 'transient'],
    ['http_error', 502, 'transient'],
    ['http_error', 503, 'transient'],
    ['http_error', 504, 'transient'],
    ['http_error', 429, 'transient'],
    ['http_error', 400, 'request'],
    ['http_error', 404, 'request'],
    ['http_error', 413, 'request'],
  ] as const)('%s with HTTP %s is %s', (kind, httpStatus, expected) => {
    expect(classifyFailure(transportFailure(kind, httpStatus))).toBe(expected);
  });

  it('falls back to the HTTP status for a graph_error that somehow lacks a code', () => {
    const codeless = { ...graphFailure(0, 502), whatsappCode: null };
    expect(classifyFailure(codeless)).toBe('transient');
  });
});

describe('isRetryableClass', () => {
  it.each([
    ['transient', true],
    ['throughput', true],
    ['pair_rate', true],
    ['auth', false],
    ['window', false],
    ['recipient', false],
    ['request', false],
    ['account', false],
  ] as const)('%s → %s', (failureClass, expected) => {
    expect(isRetryableClass(failureClass)).toBe(expected);
  });
});
