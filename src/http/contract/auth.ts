import { Type, type Static } from '@sinclair/typebox';

export const LoginBody = Type.Object(
  {
    email: Type.String({ minLength: 1, maxLength: 254 }),
    password: Type.String({ minLength: 1, maxLength: 1024 }),
  },
  { additionalProperties: false },
);
export type LoginBody = Static<typeof LoginBody>;

export const UserSchema = Type.Object({
  id: Type.String(),
  email: Type.String(),
  role: Type.Union([Type.Literal('admin'), Type.Literal('operator')]),
  active: Type.Boolean(),
  createdAt: Type.String({ format: 'date-time' }),
});

/** Who is logged in, and what the UI may offer. */
export const SessionInfo = Type.Object({
  user: UserSchema,
  /** True when WhatsApp is the built-in sandbox: the UI shows the sandbox phone. */
  sandbox: Type.Boolean(),
});

export const UserCreateBody = Type.Object(
  {
    email: Type.String({ minLength: 3, maxLength: 254 }),
    password: Type.String({ minLength: 10, maxLength: 1024 }),
    role: Type.Union([Type.Literal('admin'), Type.Literal('operator')]),
  },
  { additionalProperties: false },
);
