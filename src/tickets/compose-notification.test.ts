import { describe, expect, it } from 'vitest';
import {
  composeCenterNotification,
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

describe('composeProviderNotification', () => {
  it('writes a Spanish text with number, place, specialty, description, reporter and link', () => {
    const message = composeProviderNotification(content, { templateName: null, templateLanguage: 'es' });
    expect(message.kind).toBe('text');
    if (message.kind !== 'text') return;
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
  });

  it("includes the reporter's phone only when given", () => {
    const message = composeProviderNotification(
      { ...content, reporterPhone: '573001234567' },
      { templateName: null, templateLanguage: 'es' },
    );
    expect(message.kind === 'text' && message.body).toContain('Carlos Pérez (+573001234567)');
  });

  it('becomes the approved template with six one-line body parameters', () => {
    const message = composeProviderNotification(content, {
      templateName: 'nuevo_ticket',
      templateLanguage: 'es_CO',
    });
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
      ],
    });
  });

  it('trims a long description to fit', () => {
    const message = composeProviderNotification(
      { ...content, description: 'palabra '.repeat(400) },
      { templateName: null, templateLanguage: 'es' },
    );
    expect(message.kind === 'text' && message.body.length).toBeLessThan(800);
    expect(message.kind === 'text' && message.body).toContain('…');
  });
});

describe('composeCenterNotification', () => {
  it('says that no provider was found', () => {
    const message = composeCenterNotification(
      { ...content, reporterName: null },
      'Ningún proveedor coincide con Chapinero / Plomería.',
    );
    expect(message.kind === 'text' && message.body).toMatch(/sin proveedor[\s\S]*Ningún proveedor/);
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
