import type { MessageStatus } from './message.js';
import type { MessageNotifier } from './message-notifier.js';

export type AttemptOutcome = 'sent' | 'failed' | 'pending';

/**
 * Waits until the message is accepted by Meta or failed for good, or until `timeoutMs`. Listens for
 * this process's dispatcher and also polls the database, since another process may send it.
 */
export function waitForOutcome(options: {
  id: string;
  timeoutMs: number;
  notifier: MessageNotifier;
  readStatus: (id: string) => Promise<MessageStatus | null>;
  pollIntervalMs?: number;
}): Promise<AttemptOutcome> {
  const { id, timeoutMs, notifier, readStatus } = options;
  return new Promise((resolve) => {
    let isSettled = false;
    const finish = (outcome: AttemptOutcome): void => {
      if (isSettled) return;
      isSettled = true;
      unsubscribe();
      clearTimeout(deadline);
      clearInterval(poll);
      resolve(outcome);
    };
    const fromStatus = (status: MessageStatus | null): void => {
      if (status === 'failed') finish('failed');
      else if (status === 'sent' || status === 'delivered' || status === 'read') finish('sent');
    };
    const unsubscribe = notifier.subscribe(id, fromStatus);
    const deadline = setTimeout(() => finish('pending'), timeoutMs);
    const poll = setInterval(() => {
      readStatus(id).then(fromStatus, () => undefined);
    }, options.pollIntervalMs ?? 500);
  });
}
