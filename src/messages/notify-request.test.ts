import { describe, expect, it } from 'vitest';
import type { AppError } from '../shared/error-codes.js';
import { buildNotifyMessages } from './notify-request.js';

describe('buildNotifyMessages', () => {
  it("sends the seed's message as text", () => {
    expect(buildNotifyMessages({ message: 'Hola' }, 'es')).toEqual({
      message: { kind: 'text', body: 'Hola' },
      fallback: null,
    });
  });

  it('sends a template alone, with positional body parameters and the default language', () => {
    expect(
      buildNotifyMessages({ template: { name: 'nuevo_ticket', parameters: ['T-1', 'Chapinero'] } }, 'es'),
    ).toEqual({
      message: {
        kind: 'template',
        name: 'nuevo_ticket',
        language: 'es',
        components: [
          {
            type: 'body',
            parameters: [
              { type: 'text', text: 'T-1' },
              { type: 'text', text: 'Chapinero' },
            ],
          },
        ],
      },
      fallback: null,
    });
  });

  it('keeps a template given with a text as the fallback for a closed window', () => {
    const result = buildNotifyMessages(
      { message: 'Hola', template: { name: 'aviso', language: 'es_CO' } },
      'es',
    );
    expect(result.message).toEqual({ kind: 'text', body: 'Hola' });
    expect(result.fallback).toEqual({ kind: 'template', name: 'aviso', language: 'es_CO' });
  });

  it('sends media with the message as caption', () => {
    expect(buildNotifyMessages({ mediaUrl: 'https://x.co/a.jpg', message: 'Foto' }, 'es').message).toEqual({
      kind: 'image',
      link: 'https://x.co/a.jpg',
      caption: 'Foto',
    });
    expect(buildNotifyMessages({ mediaId: '123', filename: 'orden.pdf' }, 'es').message).toEqual({
      kind: 'document',
      mediaId: '123',
      filename: 'orden.pdf',
    });
  });

  it('refuses a wrong parameter count for a template it knows, before Meta does (132000)', () => {
    const known = new Map([['nuevo_ticket', 2]]);
    expect(() =>
      buildNotifyMessages({ template: { name: 'nuevo_ticket', parameters: ['T-1'] } }, 'es', known),
    ).toThrow(/takes 2 body parameters, got 1/);
    expect(
      buildNotifyMessages({ template: { name: 'nuevo_ticket', parameters: ['T-1', 'x'] } }, 'es', known)
        .message.kind,
    ).toBe('template');
    expect(
      buildNotifyMessages({ template: { name: 'otro', parameters: ['T-1'] } }, 'es', known).message.kind,
    ).toBe('template');
  });

  it('refuses an empty request, both media sources, and multi-line template parameters, naming the field', () => {
    const fieldOf = (fn: () => unknown) => {
      try {
        fn();
      } catch (error) {
        return (error as AppError).details?.field;
      }
      return 'no error';
    };
    expect(fieldOf(() => buildNotifyMessages({}, 'es'))).toBe('message');
    expect(fieldOf(() => buildNotifyMessages({ mediaUrl: 'https://x.co/a', mediaId: '1' }, 'es'))).toBe(
      'mediaUrl',
    );
    expect(
      fieldOf(() => buildNotifyMessages({ template: { name: 't', parameters: ['ok', 'a\nb'] } }, 'es')),
    ).toBe('template.parameters[1]');
  });
});
