/**
 * The baseline for the notify scenario: a bare Fastify app with one POST route answering `{ok:true}`,
 * in its own child process like the server under test, compiled and run the same way.
 */
import Fastify from 'fastify';

const app = Fastify();
app.post('/bare', () => ({ ok: true }));

const url = await app.listen({ port: 0, host: '127.0.0.1' });
process.on('disconnect', () => process.exit(0));
process.send?.({ type: 'ready', url, dispatcher: 'none' });
