import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { UserStore } from '../../../auth/user-store.js';
import { AppError } from '../../../shared/error-codes.js';
import { UserCreateBody, UserSchema } from '../../contract/auth.js';
import { ErrorResponses, Success } from '../../contract/envelope.js';

/** Users of the web app (admin only; the guard refuses operators). */
export const userRoutes: FastifyPluginAsyncTypebox<{ users: UserStore }> = async (app, { users }) => {
  const common = { tags: ['users'], security: [{ apiKey: [] }] };

  app.get(
    '/api/users',
    {
      schema: {
        ...common,
        summary: 'Every user',
        response: { 200: Success(Type.Object({ items: Type.Array(UserSchema) })), ...ErrorResponses },
      },
    },
    async () => ({ success: true as const, data: { items: await users.list() } }),
  );

  app.post(
    '/api/users',
    {
      schema: {
        ...common,
        summary: 'Create a user',
        body: UserCreateBody,
        response: { 201: Success(UserSchema), ...ErrorResponses },
      },
    },
    async (request, reply) => {
      const result = await users.create(request.body);
      if (!result.ok) {
        switch (result.reason) {
          case 'email_taken':
            throw new AppError('user_email_taken', 'Another user already has this email', { field: 'email' });
          case 'invalid_email':
            throw new AppError('validation_error', 'email is not an email address', { field: 'email' });
          case 'weak_password':
            throw new AppError('validation_error', 'password must be at least 10 characters', {
              field: 'password',
            });
        }
      }
      request.log.info(
        { event: 'user.created', userId: result.user.id, role: result.user.role },
        'user created',
      );
      return reply.code(201).send({ success: true as const, data: result.user });
    },
  );
};
