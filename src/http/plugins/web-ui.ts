import { existsSync } from 'node:fs';
import path from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { send } from './error-envelope.js';

/**
 * Serves the built React app (`npm run build` → dist/web): its files as they are, and index.html for
 * every other GET outside /api and /docs, so deep links (/tickets/…) load the app. Without a build,
 * `/` says how to make one.
 */
export async function registerWebUi(app: FastifyInstance, root: string): Promise<void> {
  const index = path.join(root, 'index.html');
  if (!existsSync(index)) {
    app.get('/', (_request, reply) =>
      reply.type('text/plain; charset=utf-8').send('The web app is not built: run `npm run build`.\n'),
    );
    return;
  }
  await app.register(async (scope) => {
    await scope.register(fastifyStatic, {
      root,
      wildcard: false,
      index: false,
      // Our own cache headers below, not the plugin's max-age=0 for everything.
      cacheControl: false,
      setHeaders: (res, filePath) => {
        // Hashed asset names change with their content; index.html must always be revalidated.
        res.setHeader(
          'cache-control',
          filePath.includes(`${path.sep}assets${path.sep}`)
            ? 'public, max-age=31536000, immutable'
            : 'no-cache',
        );
      },
    });
    scope.get('/*', { schema: { hide: true } }, (request, reply) => {
      const pathname = request.url.split('?')[0] ?? '';
      if (/^\/(api|docs)(\/|$)/.test(pathname)) {
        return send(reply, 'not_found', `Route ${request.method} ${pathname} not found`);
      }
      return reply.header('cache-control', 'no-cache').sendFile('index.html');
    });
  });
}
