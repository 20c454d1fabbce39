import { Type, type Static } from '@sinclair/typebox';

/** The seed's request: `{"to": "3103055424", "message": "text"}`. */
export const NotifyBody = Type.Object({
  to: Type.String({
    minLength: 1,
    maxLength: 64,
    description: 'Phone number; national Colombian numbers get 57',
  }),
  message: Type.String({
    minLength: 1,
    maxLength: 4096,
    pattern: '\\S',
    description: 'Text, 1–4096 characters',
  }),
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
