import type { SendFailure } from './whatsapp-client.js';

/**
 * What to do about a failed call (shared/whatsapp-cloud-api.md §2.3–2.4):
 * - `transient`: back off and retry. `throughput`: retry and slow the whole sender (130429).
 * - `pair_rate`: back off only this recipient (131056). `auth`: rotate the token, alert.
 * - `window`: the 24 h window is closed; send a template instead. `recipient`: stop, flag the contact.
 * - `request`: our payload or configuration is wrong; never retry as-is. `account`: stop the sender, alert.
 */
export type FailureClass =
  | 'transient'
  | 'throughput'
  | 'pair_rate'
  | 'auth'
  | 'window'
  | 'recipient'
  | 'request'
  | 'account';

const CLASS_BY_CODE: ReadonlyMap<number, FailureClass> = new Map([
  ...codes('transient', [1, 2, 4, 80007, 131000, 131016, 131057, 133004, 132015]),
  ...codes('throughput', [130429]),
  ...codes('pair_rate', [131056]),
  ...codes('auth', [0, 190]),
  ...codes('window', [131047]),
  ...codes('recipient', [131026, 130472, 131049, 131050]),
  ...codes('request', [33, 100, 131008, 131009, 131021, 131030, 131051, 131053, 135000]),
  ...codes('account', [3, 10, 368, 131031, 130497, 131005, 131037, 131042, 131045, 131048, 133010]),
]);

/** Code ranges, checked after the exact codes above (so 132015 stays transient). */
const CLASS_BY_RANGE: readonly { from: number; to: number; failureClass: FailureClass }[] = [
  { from: 200, to: 299, failureClass: 'account' },
  { from: 132000, to: 132069, failureClass: 'request' },
];

function codes(failureClass: FailureClass, list: number[]): [number, FailureClass][] {
  return list.map((code) => [code, failureClass]);
}

/** Classifies by Meta's numeric `error.code`; HTTP status only decides when Meta gave no known code. */
export function classifyFailure(failure: SendFailure): FailureClass {
  switch (failure.kind) {
    case 'network':
    case 'timeout':
    case 'invalid_response':
    case 'late_start':
      return 'transient';
    case 'http_error':
      return classifyByHttpStatus(failure.httpStatus);
    case 'graph_error':
      return classifyCode(failure.whatsappCode) ?? classifyByHttpStatus(failure.httpStatus);
  }
}

export function classifyCode(code: number | null): FailureClass | null {
  if (code === null) return null;
  const exact = CLASS_BY_CODE.get(code);
  if (exact) return exact;
  return CLASS_BY_RANGE.find((range) => code >= range.from && code <= range.to)?.failureClass ?? null;
}

// 429 counts as transient too (§2.4): dropping a message because of an unlisted rate-limit code would be worse.
function classifyByHttpStatus(httpStatus: number | null): FailureClass {
  return httpStatus !== null && (httpStatus >= 500 || httpStatus === 429) ? 'transient' : 'request';
}

/** Whether the same payload may be sent again later (with backoff). */
export function isRetryableClass(failureClass: FailureClass): boolean {
  return failureClass === 'transient' || failureClass === 'throughput' || failureClass === 'pair_rate';
}
