import { setTimeout as sleep } from 'node:timers/promises';
import multipart from '@fastify/multipart';
import type { FastifyError, FastifyInstance } from 'fastify';
import type { GraphAccess } from './graph-access.js';
import { graphFailure, sendGraphFailure } from './graph-errors.js';
import { registerMediaRoutes } from './media-routes.js';
import { MAX_UPLOAD_BYTES } from './media-store.js';
import { stampReceipt } from './receipt-time.js';
import type { SandboxState } from './sandbox-state.js';
import { registerSendRoute, type SendRouteOptions } from './send-route.js';

/** Any Graph version (`v24.0`, `v25.0`, …), as Meta accepts every live one. */
export const GRAPH_VERSION_PREFIX = '/:version(^v\\d+\\.\\d+$)';

export interface GraphRoutesOptions {
  state: SandboxState;
  access: GraphAccess;
  latencyMs: number;
  templateExists?: SendRouteOptions['templateExists'];
}

/** The emulated Graph API, in its own scope so its parsers, hooks and error format stay there. */
export async function graphRoutes(graph: FastifyInstance, options: GraphRoutesOptions): Promise<void> {
  const { state, access, latencyMs } = options;
  // A host app that mounts the sandbox may have registered multipart already; a second one throws.
  if (!graph.hasContentTypeParser('multipart/form-data')) await graph.register(multipart);

  // First of all hooks: the moment a request's headers were read is what the per-second counts use,
  // not the moment its handler runs (after body parsing and the hooks below; ADR 0011).
  graph.addHook('onRequest', (request, _reply, done) => {
    stampReceipt(request, state.now());
    done();
  });

  if (latencyMs > 0) {
    graph.addHook('onRequest', async () => {
      await sleep(latencyMs);
    });
  }

  graph.setErrorHandler((error: FastifyError, request, reply) => {
    if (error.code === 'FST_REQ_FILE_TOO_LARGE') {
      return sendGraphFailure(
        reply,
        graphFailure(131053, `The file is larger than ${MAX_UPLOAD_BYTES} bytes.`),
      );
    }
    const status = error.statusCode ?? 500;
    if (status < 500) return sendGraphFailure(reply, graphFailure(100, error.message));
    request.log.error({ err: error }, 'sandbox graph route failed');
    return sendGraphFailure(reply, graphFailure(131000, 'The sandbox failed to handle the request.'));
  });

  registerSendRoute(graph, `${GRAPH_VERSION_PREFIX}/:phoneNumberId/messages`, {
    state,
    access,
    ...(options.templateExists ? { templateExists: options.templateExists } : {}),
  });
  registerMediaRoutes(graph, { state, access, versionPrefix: GRAPH_VERSION_PREFIX });
}
