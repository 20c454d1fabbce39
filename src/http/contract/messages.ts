import { Type, type Static } from '@sinclair/typebox';
import { MESSAGE_STATUSES } from '../../messages/message.js';

export const MessageErrorSchema = Type.Object({
  code: Type.String(),
  message: Type.String(),
  whatsappCode: Type.Union([Type.Integer(), Type.Null()]),
  details: Type.Union([Type.String(), Type.Null()]),
  fbtraceId: Type.Union([Type.String(), Type.Null()]),
});

export const MessageEventSchema = Type.Object({
  status: Type.String(),
  at: Type.String({ format: 'date-time' }),
  detail: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
});

export const MessageSchema = Type.Object({
  id: Type.String(),
  direction: Type.Union([Type.Literal('outbound'), Type.Literal('inbound')]),
  to: Type.String(),
  kind: Type.String(),
  status: Type.Union(MESSAGE_STATUSES.map((s) => Type.Literal(s))),
  messageId: Type.Union([Type.String(), Type.Null()], { description: "Meta's wamid once accepted" }),
  attempts: Type.Integer(),
  ticketId: Type.Union([Type.String(), Type.Null()]),
  lastError: Type.Union([MessageErrorSchema, Type.Null()]),
  nextAttemptAt: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.String(),
  updatedAt: Type.String(),
  events: Type.Optional(Type.Array(MessageEventSchema)),
  content: Type.Optional(
    Type.Record(Type.String(), Type.Unknown(), { description: 'Inbound: what the number sent' }),
  ),
});

export const MessageListQuery = Type.Object(
  {
    direction: Type.Optional(Type.Union([Type.Literal('outbound'), Type.Literal('inbound')])),
    status: Type.Optional(Type.Union(MESSAGE_STATUSES.map((s) => Type.Literal(s)))),
    to: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    ticketId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
    cursor: Type.Optional(Type.String({ maxLength: 200 })),
  },
  { additionalProperties: false },
);
export type MessageListQuery = Static<typeof MessageListQuery>;

export const MessageIdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
