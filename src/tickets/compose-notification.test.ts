import { describe, expect, it } from 'vitest';
import type { OutgoingMessage } from '../whatsapp/whatsapp-client.js';
import { validateOutgoingMessage } from '../whatsapp/outgoing-message.js';
import {
  composeAcceptedDetails,
  composeCenterNotification,
  composeMediaMessage,
  composeProviderNotification,
  truncate,
  type NotificationContent,
} from './compose-notification.js';

const content: NotificationContent = {
  number: 'T-2026-00042',
  location: 'Chapinero',
  address: 'Calle 93 #11-27',
  specialty: 'Plomería',
  description: 'Fuga de agua en el baño 2,\nel agua sale por debajo del lavamanos.',
  reporterName: 'Carlos Pérez',
  reporterPhone: null,
  link: 'https://app.example.co/tickets/abc',
};
const buttons = {
  accept: 'accept:AAAAAAAAAAAAAAAAAAAAAA',
  decline: 'decline:AAAAAAAAAAAAAAAAAAAAAA',
  footer: 'Responde en 30 min',
};
const noTemplate = { templateName: null, templateLanguage: 'es' };

function bodyOf(message: OutgoingMessage): string {
  if (message.kind === 'interactive') return message.body;
  if (message.kind === 'text') return message.body;
  throw new Error(`no body in a ${message.kind} message`);
}

describe('composeProviderNotification', () => {
  it('asks in Spanish with number, place, specialty, description, reporter, link and two buttons', () => {
    const message = composeProviderNotification(content, noTemplate, buttons);
    expect(message.kind).toBe('interactive');
    if (message.kind !== 'interactive') return;
    for (const part of [
      'T-2026-00042',
      'Calle 93 #11-27, Chapinero',
      'Plomería',
      'Fuga de agua',
      'Reporta: Carlos Pérez',
      'https://app.example.co/tickets/abc',
    ]) {
      expect(message.body).toContain(part);
    }
    expect(message.body).not.toContain('+57');
    expect(message.buttons).toEqual([
      { id: buttons.accept, title: 'Aceptar' },
      { id: buttons.decline, title: 'Rechazar' },
    ]);
    expect(message.footer).toBe('Responde en 30 min');
    expect(validateOutgoingMessage(message)).toBeNull();
  });

  it("includes the reporter's phone only when given", () => {
    const message = composeProviderNotification(
      { ...content, reporterPhone: '573001234567' },
      noTemplate,
      buttons,
    );
    expect(bodyOf(message)).toContain('Carlos Pérez (+573001234567)');
  });

  it('becomes the approved template with six one-line body parameters and the two payloads', () => {
    const message = composeProviderNotification(
      content,
      { templateName: 'nuevo_ticket', templateLanguage: 'es_CO' },
      buttons,
    );
    expect(message).toEqual({
      kind: 'template',
      name: 'nuevo_ticket',
      language: 'es_CO',
      components: [
        {
          type: 'body',
          parameters: [
            { type: 'text', text: 'T-2026-00042' },
            { type: 'text', text: 'Calle 93 #11-27, Chapinero' },
            { type: 'text', text: 'Plomería' },
            { type: 'text', text: 'Fuga de agua en el baño 2, el agua sale por debajo del lavamanos.' },
            { type: 'text', text: 'Reporta: Carlos Pérez' },
            { type: 'text', text: 'https://app.example.co/tickets/abc' },
          ],
        },
        {
          type: 'button',
          sub_type: 'quick_reply',
          index: '0',
          parameters: [{ type: 'payload', payload: buttons.accept }],
        },
        {
          type: 'button',
          sub_type: 'quick_reply',
          index: '1',
          parameters: [{ type: 'payload', payload: buttons.decline }],
        },
      ],
    });
  });

  it('trims a long description to fit, keeping the link, inside the interactive limit', () => {
    const message = composeProviderNotification(
      {
        ...content,
        description: 'palabra '.repeat(400),
        location: 'x'.repeat(300),
        address: 'y'.repeat(300),
      },
      noTemplate,
      buttons,
    );
    const body = bodyOf(message);
    expect([...body].length).toBeLessThanOrEqual(1024);
    expect(body).toContain('…');
    expect(body).toContain('https://app.example.co/tickets/abc');
    expect(validateOutgoingMessage(message)).toBeNull();
  });
});

describe('composeCenterNotification', () => {
  it('says that no provider was found and offers Tomar', () => {
    const message = composeCenterNotification(
      { ...content, reporterName: null },
      'Ningún proveedor coincide con Chapinero / Plomería.',
      'take:AAAAAAAAAAAAAAAAAAAAAA',
    );
    expect(bodyOf(message)).toMatch(/sin proveedor[\s\S]*Ningún proveedor/);
    expect(message.kind === 'interactive' && message.buttons).toEqual([
      { id: 'take:AAAAAAAAAAAAAAAAAAAAAA', title: 'Tomar' },
    ]);
    expect(validateOutgoingMessage(message)).toBeNull();
  });
});

describe('after acceptance', () => {
  it("gives the provider the whole description and the reporter's contact", () => {
    const long = 'detalle '.repeat(200);
    const message = composeAcceptedDetails({ ...content, description: long, reporterPhone: '573001234567' });
    expect(bodyOf(message)).toContain('asignado a ti');
    expect(bodyOf(message)).toContain(long.trim());
    expect(bodyOf(message)).toContain('(+573001234567)');
  });

  it('sends photos as images and other files as documents', () => {
    const link = 'https://app.example.co/media/t/m?expires=1&signature=00';
    expect(composeMediaMessage({ contentType: 'image/png', filename: 'a.png', link }, 'T-1 · 1/2')).toEqual({
      kind: 'image',
      link,
      caption: 'T-1 · 1/2',
    });
    expect(
      composeMediaMessage({ contentType: 'application/pdf', filename: 'a.pdf', link }, 'T-1 · 2/2'),
    ).toEqual({ kind: 'document', link, caption: 'T-1 · 2/2', filename: 'a.pdf' });
  });
});

describe('truncate', () => {
  it('keeps short text and cuts long text on a word boundary', () => {
    expect(truncate('  hola  ', 10)).toBe('hola');
    expect(truncate('uno dos tres cuatro', 14)).toBe('uno dos tres…');
    expect(truncate('uno dos tres cuatro', 12)).toBe('uno dos tre…');
    expect([...truncate('ñ'.repeat(50), 10)]).toHaveLength(10);
  });
});
