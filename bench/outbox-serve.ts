/**
 * The floor for the notify scenario: the bare Fastify app of bare-serve.ts plus the one thing notify
 * cannot skip, the outbox's durable write: each request goes through `Outbox.enqueue` (group commit into
 * embedded SQLite in the working folder, as the service does) and is answered 202 with the row's id.
 * None of the service's other work: no API key, rate limit, validation, phone parsing, metrics, request
 * logging, security headers or dispatcher. Notify ÷ this route is what those cost; this route ÷ bare is
 * what the durable write costs on the machine.
 */
import path from 'node:path';
import Fastify from 'fastify';
import { migrateToLatest, openDatabase } from '../src/db/database.js';
import { Outbox } from '../src/messages/outbox.js';
import { systemClock } from '../src/shared/clock.js';

const database = openDatabase({ url: null, sqliteFile: path.join(process.cwd(), 'floor.db') });
await migrateToLatest(database);
const outbox = new Outbox(database.db, database.dialect, '100000000000001', systemClock);

const app = Fastify();
app.post('/floor', async (request, reply) => {
  const { to, message } = request.body as { to: string; message: string };
  const { row } = await outbox.enqueue({ to, message: { kind: 'text', body: message } });
  return reply.code(202).send({ success: true, data: { id: row.id, status: row.status } });
});

const url = await app.listen({ port: 0, host: '127.0.0.1' });
process.on('disconnect', () => process.exit(0));
process.send?.({ type: 'ready', url, dispatcher: 'none' });
