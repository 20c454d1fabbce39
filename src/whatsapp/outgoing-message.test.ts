import { describe, expect, it } from 'vitest';
import { toWireSendRequest, validateOutgoingMessage } from './outgoing-message.js';
import type { OutgoingMessage } from './whatsapp-client.js';

const button = (id: string, title: string) => ({ id, title });
const interactive = (
  overrides: Partial<Extract<OutgoingMessage, { kind: 'interactive' }>> = {},
): OutgoingMessage => ({
  kind: 'interactive',
  body: '¿Acepta el servicio?',
  buttons: [button('accept:T-1', 'Aceptar'), button('reject:T-1', 'Rechazar')],
  ...overrides,
});

describe('validateOutgoingMessage accepts sendable messages', () => {
  it.each<[string, OutgoingMessage]>([
    ['text', { kind: 'text', body: 'Ticket T-2026-00042 asignado a usted.' }],
    ['text at the 4096 limit', { kind: 'text', body: 'a'.repeat(4096) }],
    ['emoji counted as one character', { kind: 'text', body: '🚰'.repeat(4096) }],
    ['template', { kind: 'template', name: 'nuevo_ticket_mantenimiento', language: 'es' }],
    ['template with region', { kind: 'template', name: 'ticket_v2', language: 'es_CO' }],
    ['image by id', { kind: 'image', mediaId: '1479537139650973', caption: 'Foto' }],
    ['image by link', { kind: 'image', link: 'https://files.example.com/a.jpg' }],
    ['document by link', { kind: 'document', link: 'https://files.example.com/a.pdf', filename: 'a.pdf' }],
    ['interactive', interactive({ header: 'Ticket T-1', footer: 'Mantenimiento' })],
    ['three buttons', interactive({ buttons: [button('a', 'A'), button('b', 'B'), button('c', 'C')] })],
    ['20-char title', interactive({ buttons: [button('a', 'x'.repeat(20))] })],
  ])('%s', (_case, message) => {
    expect(validateOutgoingMessage(message)).toBeNull();
  });
});

describe('validateOutgoingMessage names the field at fault', () => {
  it.each<[string, OutgoingMessage, string]>([
    ['empty text', { kind: 'text', body: '  ' }, 'body: must not be empty'],
    [
      'text over 4096',
      { kind: 'text', body: 'a'.repeat(4097) },
      'body: must be at most 4096 characters (got 4097)',
    ],
    ['template name with capitals', { kind: 'template', name: 'Nuevo Ticket', language: 'es' }, 'name:'],
    ['template without language', { kind: 'template', name: 'ticket', language: '' }, 'language:'],
    ['media with neither id nor link', { kind: 'image' }, 'mediaId/link:'],
    ['media with both', { kind: 'image', mediaId: '1', link: 'https://x.co/a.jpg' }, 'mediaId/link:'],
    ['media link that is not a URL', { kind: 'document', link: 'files/a.pdf' }, 'link:'],
    ['media link with another scheme', { kind: 'document', link: 'ftp://x.co/a.pdf' }, 'link:'],
    ['caption over 1024', { kind: 'image', mediaId: '1', caption: 'c'.repeat(1025) }, 'caption:'],
    ['blank filename', { kind: 'document', mediaId: '1', filename: ' ' }, 'filename:'],
    ['interactive body over 1024', interactive({ body: 'b'.repeat(1025) }), 'body:'],
    ['header over 60', interactive({ header: 'h'.repeat(61) }), 'header:'],
    ['footer over 60', interactive({ footer: 'f'.repeat(61) }), 'footer:'],
    ['no buttons', interactive({ buttons: [] }), 'buttons: must have 1 to 3 buttons (got 0)'],
    [
      'four buttons',
      interactive({ buttons: [button('a', 'A'), button('b', 'B'), button('c', 'C'), button('d', 'D')] }),
      'buttons: must have 1 to 3 buttons (got 4)',
    ],
    [
      '21-char title',
      interactive({ buttons: [button('a', 'A'), button('b', 'x'.repeat(21))] }),
      'buttons[1].title: must be at most 20 characters (got 21)',
    ],
    ['empty title', interactive({ buttons: [button('a', '')] }), 'buttons[0].title: must not be empty'],
    ['id with spaces around', interactive({ buttons: [button(' a', 'A')] }), 'buttons[0].id:'],
    ['id over 256', interactive({ buttons: [button('i'.repeat(257), 'A')] }), 'buttons[0].id:'],
    [
      'duplicate titles',
      interactive({ buttons: [button('a', 'Sí'), button('b', 'Sí')] }),
      'titles must be unique',
    ],
    ['duplicate ids', interactive({ buttons: [button('a', 'Sí'), button('a', 'No')] }), 'ids must be unique'],
  ])('%s', (_case, message, problem) => {
    expect(validateOutgoingMessage(message)).toContain(problem);
  });
});

describe('toWireSendRequest', () => {
  it('passes both media id and link through so that Meta reports the conflict', () => {
    const wire = toWireSendRequest({
      to: '573104567890',
      message: { kind: 'image', mediaId: '1', link: 'https://x.co/a.jpg' },
    });
    expect(wire.image).toEqual({ id: '1', link: 'https://x.co/a.jpg' });
  });

  it('never puts a filename on an image or undefined values in the body', () => {
    const wire = toWireSendRequest({ to: '573104567890', message: { kind: 'document', mediaId: '1' } });
    expect(wire).toEqual({
      messaging_product: 'whatsapp',
      recipient_type: 'individual',
      to: '573104567890',
      type: 'document',
      document: { id: '1' },
    });
    expect(Object.values(wire.document ?? {})).not.toContain(undefined);
  });
});
