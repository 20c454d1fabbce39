import { Type, type Static } from '@sinclair/typebox';
import { TICKET_STATUSES } from '../../tickets/ticket.js';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) =>
  Type.Union([schema, Type.Null()]);
const Detail = Nullable(Type.Record(Type.String(), Type.Unknown()));

export const TicketCreateBody = Type.Object(
  {
    description: Type.String({ minLength: 1, maxLength: 5000, pattern: '\\S' }),
    location: Type.String({ minLength: 1, maxLength: 120, pattern: '\\S' }),
    specialty: Type.String({ minLength: 1, maxLength: 120, pattern: '\\S' }),
    title: Type.Optional(Type.String({ maxLength: 200 })),
    address: Type.Optional(Type.String({ maxLength: 300 })),
    reporter: Type.Optional(
      Type.Object(
        {
          name: Type.Optional(Type.String({ maxLength: 120 })),
          phone: Type.Optional(Type.String({ maxLength: 64 })),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
export type TicketCreateBody = Static<typeof TicketCreateBody>;

export const TicketProviderSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  phone: Type.String(),
  location: Type.String(),
  specialties: Type.Array(Type.String()),
});

export const TicketSchema = Type.Object({
  id: Type.String(),
  number: Type.String({ description: 'Human ticket number, e.g. T-2026-00042' }),
  title: Nullable(Type.String()),
  description: Type.String(),
  location: Type.String(),
  specialty: Type.String(),
  address: Nullable(Type.String()),
  reporter: Type.Object({ name: Nullable(Type.String()), phone: Nullable(Type.String()) }),
  status: Type.Union(TICKET_STATUSES.map((s) => Type.Literal(s))),
  matchSource: Type.String({ description: 'local_specialty | local_location | directory | center | manual' }),
  provider: Nullable(TicketProviderSchema),
  createdAt: Type.String(),
  updatedAt: Type.String(),
  media: Type.Optional(
    Type.Array(
      Type.Object({
        id: Type.String(),
        filename: Type.String(),
        contentType: Type.String(),
        size: Type.Integer(),
        url: Type.String(),
      }),
    ),
  ),
  notifications: Type.Optional(
    Type.Array(
      Type.Object({
        id: Type.String(),
        to: Type.String(),
        status: Type.String(),
        messageId: Nullable(Type.String()),
        attempts: Type.Integer(),
        lastError: Nullable(
          Type.Object({
            code: Type.String(),
            message: Type.String(),
            whatsappCode: Nullable(Type.Integer()),
          }),
        ),
        createdAt: Type.String(),
        events: Type.Optional(
          Type.Array(Type.Object({ status: Type.String(), at: Type.String(), detail: Detail })),
        ),
      }),
    ),
  ),
  assignment: Type.Optional(
    Nullable(
      Type.Object(
        {
          id: Type.String(),
          kind: Type.Union([Type.Literal('provider'), Type.Literal('center')]),
          status: Type.String({
            description: 'offered | accepted | taken | declined | expired | failed | superseded',
          }),
          providerId: Nullable(Type.String()),
          offeredAt: Type.String(),
          deadlineAt: Nullable(Type.String()),
          answeredAt: Nullable(Type.String()),
        },
        { description: 'The offer in force: who has the ticket or is being asked for it' },
      ),
    ),
  ),
  history: Type.Optional(
    Type.Array(
      Type.Object({
        type: Type.String({
          description:
            'created, provider_notified, center_notified, accepted, declined, expired, delivery_failed, escalated, taken_by_center, tap_ignored, reassigned, no_provider',
        }),
        at: Type.String(),
        detail: Detail,
      }),
    ),
  ),
});

export const TicketCreated = Type.Object({
  ticket: TicketSchema,
  notification: Nullable(Type.Object({ id: Type.String(), to: Type.String(), status: Type.String() })),
});

export const TicketListQuery = Type.Object(
  {
    status: Type.Optional(Type.Union(TICKET_STATUSES.map((s) => Type.Literal(s)))),
    provider: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    location: Type.Optional(Type.String({ minLength: 1, maxLength: 120 })),
    limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
    cursor: Type.Optional(Type.String({ maxLength: 200 })),
  },
  { additionalProperties: false },
);

export const TicketIdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
export const TicketMediaParams = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 64 }),
  mediaId: Type.String({ minLength: 1, maxLength: 64 }),
});
export const ReassignBody = Type.Object(
  { providerId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })) },
  { additionalProperties: false },
);
