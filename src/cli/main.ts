#!/usr/bin/env node
/**
 * `keyhomekey`: operations from the shell.
 *   migrate                      apply database migrations (also done at every start)
 *   send <to> <message>          queue a WhatsApp text through the outbox (a running server sends it)
 *   import-providers <file.csv>  create/update providers from a CSV file ([--dry-run])
 *   env-example                  print .env.example rendered from the config schema
 *   create-user --email E [--role admin|operator] [--password P]
 *                                add a web app user (password from --password, stdin, or generated)
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../config/load-config.js';
import { renderEnvExample } from '../config/env-example.js';
import { migrateToLatest, openDatabase, type Database } from '../db/database.js';
import { Outbox } from '../messages/outbox.js';
import { systemClock } from '../shared/clock.js';
import { normalizePhoneNumber } from '../whatsapp/phone-number.js';
import { SANDBOX_PHONE_NUMBER_ID } from '../app.js';
import { runImportProviders } from './import-providers.js';
import { runCreateUser } from './create-user.js';

const USAGE = `usage: keyhomekey <command>
  migrate                 apply pending database migrations
  send <to> <message>     queue a WhatsApp text message (sent by a running server)
  import-providers <file.csv> [--dry-run]
                          create/update providers from a CSV file (name, phone, location, specialties)
  env-example             print .env.example generated from the configuration schema
  create-user --email <email> [--role admin|operator] [--password <password>]
                          add a web app user; without --password it is read from stdin when piped,
                          else generated and printed once`;

async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      'dry-run': { type: 'boolean' },
      email: { type: 'string' },
      role: { type: 'string' },
      password: { type: 'string' },
    },
  });
  const [command, ...rest] = positionals;
  switch (command) {
    case 'env-example':
      process.stdout.write(renderEnvExample());
      return 0;
    case 'migrate':
      return withDatabase(async (database) => {
        const applied = await migrateToLatest(database);
        process.stdout.write(
          applied.length === 0 ? 'Database is up to date.\n' : `Applied: ${applied.join(', ')}\n`,
        );
        return 0;
      });
    case 'send':
      return send(rest);
    case 'import-providers': {
      const [file] = rest;
      if (file === undefined) {
        process.stderr.write('usage: keyhomekey import-providers <file.csv> [--dry-run]\n');
        return 64;
      }
      const config = readConfig();
      return withDatabase(async (database) => {
        await migrateToLatest(database);
        return runImportProviders({
          file,
          database,
          defaultCountry: config.defaultCountry,
          clock: systemClock,
          dryRun: values['dry-run'] === true,
        });
      });
    }
    case 'create-user':
      return withDatabase(async (database) => {
        await migrateToLatest(database);
        return runCreateUser({
          database,
          email: values.email,
          role: values.role,
          password: values.password,
          stdin: process.stdin,
          out: process.stdout,
          err: process.stderr,
        });
      });
    default:
      process.stderr.write(`${USAGE}\n`);
      return command === undefined ? 0 : 64;
  }
}

async function send(args: string[]): Promise<number> {
  const [to, ...words] = args;
  const body = words.join(' ').trim();
  if (to === undefined || body === '') {
    process.stderr.write('usage: keyhomekey send <to> <message>\n');
    return 64;
  }
  const config = readConfig();
  const phone = normalizePhoneNumber(to, config.defaultCountry);
  if (!phone.ok) {
    process.stderr.write(`Invalid phone number: ${phone.reason}\n`);
    return 65;
  }
  const phoneNumberId =
    config.whatsapp.mode === 'sandbox'
      ? SANDBOX_PHONE_NUMBER_ID
      : (config.whatsapp.phoneNumberId ?? 'unconfigured');
  return withDatabase(async (database) => {
    await migrateToLatest(database);
    const outbox = new Outbox(database.db, database.dialect, phoneNumberId, systemClock);
    const { row } = await outbox.enqueue({ to: phone.digits, message: { kind: 'text', body } });
    process.stdout.write(`Queued message ${row.id} to ${phone.digits}\n`);
    return 0;
  });
}

function readConfig() {
  return loadConfig({ env: process.env, cwd: process.cwd() });
}

async function withDatabase(run: (database: Database) => Promise<number>): Promise<number> {
  const config = readConfig();
  const database = openDatabase({
    url: config.databaseUrl,
    sqliteFile: path.join(config.dataDir, 'keyhomekey.db'),
  });
  try {
    return await run(database);
  } finally {
    await database.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    const message =
      error instanceof ConfigError
        ? `Configuration error: ${error.message}`
        : error instanceof Error
          ? error.message
          : String(error);
    process.stderr.write(`keyhomekey: ${message}\n`);
    process.exit(1);
  },
);
