import { describe, expect, it } from 'vitest';
import { Inbox, type InboxMessage } from './inbox.js';

function message(waId: string, index: number): InboxMessage {
  return {
    wamid: `wamid.${waId}.${index}`,
    waId,
    phoneNumberId: '1',
    receivedAt: new Date(index * 1000).toISOString(),
    type: 'text',
    callbackData: `${waId}:${index}`,
    request: { messaging_product: 'whatsapp', to: waId, type: 'text', text: { body: String(index) } },
  };
}

const stored = (inbox: Inbox, waId: string): (string | null)[] =>
  inbox.messagesFor(waId).map((entry) => entry.callbackData);

describe('Inbox', () => {
  it('keeps the newest messages per number', () => {
    const inbox = new Inbox({ maxPerNumber: 3, maxTotal: 100 });
    for (let index = 1; index <= 5; index += 1) inbox.add(message('A', index));
    expect(stored(inbox, 'A')).toEqual(['A:3', 'A:4', 'A:5']);
    expect(inbox.size).toBe(3);
    expect(inbox.recipient('A')?.accepted).toBe(5);
  });

  it('keeps the newest messages overall, evicting the globally oldest first', () => {
    const inbox = new Inbox({ maxPerNumber: 3, maxTotal: 5 });
    for (let index = 1; index <= 4; index += 1) inbox.add(message('A', index));
    for (let index = 1; index <= 3; index += 1) inbox.add(message('B', index));
    expect(stored(inbox, 'A')).toEqual(['A:3', 'A:4']);
    expect(stored(inbox, 'B')).toEqual(['B:1', 'B:2', 'B:3']);
    expect(inbox.size).toBe(5);
  });

  it('forgets a number once all its messages are evicted, and stays bounded under long runs', () => {
    const inbox = new Inbox({ maxPerNumber: 10, maxTotal: 50 });
    inbox.add(message('old', 0));
    for (let index = 1; index <= 10_000; index += 1) inbox.add(message(`n${index % 200}`, index));
    expect(inbox.recipient('old')).toBeUndefined();
    expect(inbox.size).toBe(50);
    expect(inbox.summaries().reduce((sum, summary) => sum + summary.stored, 0)).toBe(50);
  });

  it('clears everything', () => {
    const inbox = new Inbox({ maxPerNumber: 3, maxTotal: 5 });
    inbox.add(message('A', 1));
    expect(inbox.clear()).toBe(1);
    expect(inbox.summaries()).toEqual([]);
    inbox.add(message('A', 2));
    expect(stored(inbox, 'A')).toEqual(['A:2']);
  });
});
