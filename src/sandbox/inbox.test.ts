import { describe, expect, it } from 'vitest';
import { Inbox, type InboxMessage, type InboxReply } from './inbox.js';

function message(waId: string, index: number): InboxMessage {
  return {
    direction: 'outbound',
    wamid: `wamid.${waId}.${index}`,
    waId,
    phoneNumberId: '1',
    receivedAt: new Date(index * 1000).toISOString(),
    type: 'text',
    callbackData: `${waId}:${index}`,
    request: { messaging_product: 'whatsapp', to: waId, type: 'text', text: { body: String(index) } },
  };
}

function reply(waId: string, index: number, phoneNumberId = '1'): InboxReply {
  return {
    direction: 'inbound',
    wamid: `wamid.in.${waId}.${index}`,
    waId,
    phoneNumberId,
    receivedAt: new Date(index * 1000).toISOString(),
    type: 'text',
    text: String(index),
    contextWamid: null,
    profileName: `name ${index}`,
    message: { from: waId, id: `wamid.in.${waId}.${index}`, timestamp: String(index), type: 'text' },
    webhook: 'not_configured',
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

  it('keeps replies beside messages, in arrival order, and opens a window per business number', () => {
    const inbox = new Inbox({ maxPerNumber: 3, maxTotal: 100 });
    inbox.add(message('A', 1));
    inbox.addReply(reply('A', 2), 2000);
    inbox.add(message('A', 3));
    inbox.addReply(reply('A', 4, '2'), 4000);
    expect(inbox.conversation('A').map((item) => `${item.direction}:${item.wamid}`)).toEqual([
      'outbound:wamid.A.1',
      'inbound:wamid.in.A.2',
      'outbound:wamid.A.3',
      'inbound:wamid.in.A.4',
    ]);
    expect(inbox.messagesFor('A')).toHaveLength(2);
    expect(inbox.size).toBe(2);
    expect(inbox.recipient('A')).toMatchObject({ profileName: 'name 4' });
    expect([...inbox.recipient('A')!.lastInboundAt]).toEqual([
      ['1', 2000],
      ['2', 4000],
    ]);
    expect(inbox.summaries()).toEqual([
      expect.objectContaining({ stored: 2, replies: 2, lastInboundAt: new Date(4000).toISOString() }),
    ]);
    for (let index = 5; index <= 9; index += 1) inbox.addReply(reply('A', index), index * 1000);
    expect(inbox.recipient('A')!.replies.map((item) => item.text)).toEqual(['7', '8', '9']);
  });

  it('remembers a number that replied (and its window) after its messages are evicted; clear forgets it', () => {
    const inbox = new Inbox({ maxPerNumber: 10, maxTotal: 2 });
    inbox.add(message('A', 1));
    inbox.addReply(reply('A', 2), 2000);
    inbox.add(message('B', 3));
    inbox.add(message('B', 4));
    expect(inbox.messagesFor('A')).toEqual([]);
    expect(inbox.conversation('A').map((item) => item.direction)).toEqual(['inbound']);
    expect(inbox.recipient('A')?.lastInboundAt.get('1')).toBe(2000);
    inbox.clear();
    expect(inbox.recipient('A')).toBeUndefined();
    expect(inbox.conversation('A')).toEqual([]);
  });
});
