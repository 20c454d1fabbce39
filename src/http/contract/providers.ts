import { Type, type Static } from '@sinclair/typebox';

const Name = Type.String({ minLength: 1, maxLength: 120, description: 'Non-empty, at most 120 characters' });
const Phone = Type.String({
  minLength: 1,
  maxLength: 64,
  description: 'Phone number as typed; normalized like `to` (national Colombian numbers get 57)',
});
const Location = Type.String({
  minLength: 1,
  maxLength: 120,
  description: 'Compared without regard to case, accents or surrounding spaces',
});
const Specialties = Type.Array(Type.String({ minLength: 1, maxLength: 120 }), {
  minItems: 1,
  maxItems: 20,
  description: '1–20 specialties, compared like the location',
});

export const ProviderSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  phone: Type.String({ description: 'Digits with the country code (e.g. 573103055424)' }),
  location: Type.String(),
  specialties: Type.Array(Type.String()),
  active: Type.Boolean(),
  source: Type.Union([Type.Literal('local'), Type.Literal('directory')], {
    description: '`directory`: adopted from the external directory by matching',
  }),
  lastAssignedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  stats: Type.Object(
    {
      accepted: Type.Integer(),
      declined: Type.Integer(),
      expired: Type.Integer({ description: 'Offers that expired or could not be delivered' }),
      rankMinutes: Type.Union([Type.Integer(), Type.Null()], {
        description:
          'Expected minutes until acceptance; lower is offered first among equal matches (null = no history yet)',
      }),
    },
    { description: 'Answers to offers so far (the accept/decline loop)' },
  ),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
});

export const ProviderCreateBody = Type.Object(
  {
    name: Name,
    phone: Phone,
    location: Location,
    specialties: Specialties,
    active: Type.Optional(Type.Boolean({ default: true })),
  },
  { additionalProperties: false },
);
export type ProviderCreateBody = Static<typeof ProviderCreateBody>;

export const ProviderPatchBody = Type.Object(
  {
    name: Type.Optional(Name),
    phone: Type.Optional(Phone),
    location: Type.Optional(Location),
    specialties: Type.Optional(Specialties),
    active: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type ProviderPatchBody = Static<typeof ProviderPatchBody>;

export const ProviderIdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });

export const ProviderListQuery = Type.Object(
  {
    location: Type.Optional(Type.String({ minLength: 1, maxLength: 120 })),
    specialty: Type.Optional(Type.String({ minLength: 1, maxLength: 120 })),
    active: Type.Optional(Type.Boolean()),
    source: Type.Optional(Type.Union([Type.Literal('local'), Type.Literal('directory')])),
    phone: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
    cursor: Type.Optional(Type.String({ maxLength: 200 })),
  },
  { additionalProperties: false },
);
export type ProviderListQuery = Static<typeof ProviderListQuery>;

export const ProviderPage = Type.Object({
  items: Type.Array(ProviderSchema),
  nextCursor: Type.Union([Type.String(), Type.Null()]),
});

export const ProviderImportQuery = Type.Object(
  { dryRun: Type.Boolean({ default: false, description: 'Validate and count only; nothing is written' }) },
  { additionalProperties: false },
);

/** The CSV file itself (`text/csv` or `text/plain`). */
export const ProviderImportBody = Type.String({
  description:
    'CSV with a header row: name, phone, location, specialties (separated by ; or |), optional active. Delimiter , ; or tab.',
});

export const ProviderImportReport = Type.Object({
  total: Type.Integer({ description: 'Provider rows in the file (blank rows not counted)' }),
  created: Type.Integer(),
  updated: Type.Integer(),
  refused: Type.Array(
    Type.Object({
      row: Type.Integer({ description: 'As a spreadsheet numbers it: the header is row 1' }),
      reason: Type.String(),
      field: Type.Optional(Type.String()),
    }),
  ),
  dryRun: Type.Boolean(),
});
