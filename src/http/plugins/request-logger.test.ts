import Fastify from 'fastify';
import pino from 'pino';
import { describe, expect, it, vi } from 'vitest';
import { lazyChildLogger } from './request-logger.js';

function capture(level: string) {
  const lines: Record<string, unknown>[] = [];
  const logger = pino(
    { level },
    { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) },
  );
  return { logger, lines };
}

async function appWith(level: string) {
  const { logger, lines } = capture(level);
  const makeChild = vi.spyOn(logger, 'child');
  const app = Fastify({
    loggerInstance: logger,
    childLoggerFactory: lazyChildLogger,
    disableRequestLogging: true,
  });
  app.get('/quiet', async (request) => {
    request.log.info('not at warn');
    request.log.debug({ detail: 1 }, 'nor this');
    return { ok: true };
  });
  app.get('/loud', async (request) => {
    request.log.warn({ event: 'test.warned', n: 1 }, 'warned %s', 'here');
    request.log.child({ part: 'inner' }).error('inner error');
    return { ok: true };
  });
  app.get('/own-level', { logLevel: 'debug' }, async (request) => {
    request.log.debug('route level');
    return { ok: true };
  });
  await app.ready();
  makeChild.mockClear();
  return { app, lines, makeChild };
}

describe('lazyChildLogger', () => {
  it('makes no child logger for a request that writes nothing at an enabled level', async () => {
    const { app, lines, makeChild } = await appWith('warn');
    expect((await app.inject('/quiet')).statusCode).toBe(200);
    expect(makeChild).not.toHaveBeenCalled();
    expect(lines).toEqual([]);
    await app.close();
  });

  it('writes enabled lines through a real child: request id, fields, format arguments, grandchildren', async () => {
    const { app, lines, makeChild } = await appWith('warn');
    const response = await app.inject('/loud');
    expect(response.statusCode).toBe(200);
    // The request's child (bound to its id), then the grandchild made from it (pino children inherit the spy).
    expect(makeChild).toHaveBeenCalledTimes(2);
    expect(makeChild.mock.calls[0]?.[0]).toHaveProperty('reqId');
    const [warned, inner] = lines;
    expect(warned).toMatchObject({ level: 40, event: 'test.warned', n: 1, msg: 'warned here' });
    expect(typeof warned?.reqId).toBe('string');
    expect(inner).toMatchObject({ level: 50, part: 'inner', msg: 'inner error', reqId: warned?.reqId });
    await app.close();
  });

  it("honours a route's own log level", async () => {
    const { app, lines } = await appWith('warn');
    await app.inject('/own-level');
    expect(lines).toMatchObject([{ level: 20, msg: 'route level' }]);
    await app.close();
  });

  it('reports the level of the logger it stands for', () => {
    const { logger } = capture('info');
    const lazy = lazyChildLogger(logger, { reqId: 'r1' }, {});
    expect(lazy.level).toBe('info');
    lazy.level = 'error';
    expect(lazy.level).toBe('error');
    expect(logger.level).toBe('info');
  });
});
