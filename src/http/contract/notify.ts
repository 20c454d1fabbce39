import { Type, type Static } from '@sinclair/typebox';

const TemplateParameterType = Type.Union(
  (['text', 'payload', 'image', 'document', 'video', 'currency', 'date_time'] as const).map((t) =>
    Type.Literal(t),
  ),
);

/** The seed's request: `{"to": "3103055424", "message": "text"}`. */
export const NotifyBody = Type.Object({
  to: Type.String({
    minLength: 1,
    maxLength: 64,
    description: 'Phone number; national Colombian numbers get 57',
  }),
  message: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 4096,
      pattern: '\\S',
      description:
        'Text, 1–4096 characters (required unless a template or media is given; the caption with media)',
    }),
  ),
  template: Type.Optional(
    Type.Object(
      {
        name: Type.String({ pattern: '^[a-z0-9_]{1,512}$', description: 'Approved template name' }),
        language: Type.Optional(
          Type.String({
            pattern: '^[a-z]{2,3}(_[A-Z]{2})?$',
            description: 'Default WHATSAPP_TEMPLATE_LANGUAGE',
          }),
        ),
        parameters: Type.Optional(
          Type.Array(Type.String({ minLength: 1, maxLength: 1024 }), { maxItems: 20 }),
        ),
        components: Type.Optional(
          Type.Array(
            Type.Object(
              {
                type: Type.Union([Type.Literal('header'), Type.Literal('body'), Type.Literal('button')]),
                sub_type: Type.Optional(Type.Union([Type.Literal('quick_reply'), Type.Literal('url')])),
                index: Type.Optional(Type.String({ pattern: '^[0-9]$' })),
                parameters: Type.Optional(
                  Type.Array(Type.Object({ type: TemplateParameterType }, { additionalProperties: true }), {
                    maxItems: 20,
                  }),
                ),
              },
              { additionalProperties: false },
            ),
            { maxItems: 10 },
          ),
        ),
      },
      {
        additionalProperties: false,
        description:
          'Alone: send this template. With `message`: the text inside the 24-hour window, the template outside it.',
      },
    ),
  ),
  mediaUrl: Type.Optional(
    Type.String({ maxLength: 2000, pattern: '^https://', description: 'Public HTTPS link Meta fetches' }),
  ),
  mediaId: Type.Optional(
    Type.String({ pattern: '^[0-9A-Za-z_-]{1,128}$', description: 'An id from a media upload' }),
  ),
  mediaType: Type.Optional(Type.Union([Type.Literal('image'), Type.Literal('document')])),
  caption: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
  filename: Type.Optional(Type.String({ minLength: 1, maxLength: 240 })),
});
export type NotifyBody = Static<typeof NotifyBody>;

export const NotifySent = Type.Object({
  messageId: Type.String({ description: "Meta's wamid" }),
  to: Type.String({ description: 'The normalized number (digits, country code first)' }),
  id: Type.String({ description: 'Our message id (GET /api/messages/:id)' }),
});

export const NotifyAccepted = Type.Object({
  id: Type.String(),
  to: Type.String(),
  status: Type.String({ description: 'queued | sending | retrying' }),
});

export const NotifyHeaders = Type.Object({
  'idempotency-key': Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
  prefer: Type.Optional(Type.String()),
});
