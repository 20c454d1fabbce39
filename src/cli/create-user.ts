import { generatePassword, MIN_PASSWORD_LENGTH } from '../auth/password.js';
import { USER_ROLES, type UserRole } from '../auth/user.js';
import { UserStore } from '../auth/user-store.js';
import type { Database } from '../db/database.js';
import { systemClock } from '../shared/clock.js';

export interface CreateUserCommand {
  database: Database;
  email: string | undefined;
  role: string | undefined;
  password: string | undefined;
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
}

/**
 * `keyhomekey create-user`: the password comes from --password, else from stdin when it is piped
 * (first line), else it is generated and printed once. Returns the exit code.
 */
export async function runCreateUser(command: CreateUserCommand): Promise<number> {
  const { email, err, out } = command;
  if (email === undefined || email.trim() === '') {
    err.write(
      'usage: keyhomekey create-user --email <email> [--role admin|operator] [--password <password>]\n',
    );
    return 64;
  }
  const role = (command.role ?? 'operator') as UserRole;
  if (!USER_ROLES.includes(role)) {
    err.write(`--role must be one of ${USER_ROLES.join(', ')}\n`);
    return 64;
  }
  let password = command.password ?? null;
  if (password === null && command.stdin.isTTY !== true) password = await firstLine(command.stdin);
  const generated = password === null || password === '';
  if (generated) password = generatePassword();
  const users = new UserStore(command.database.db, systemClock);
  const result = await users.create({ email, password: password ?? '', role });
  if (!result.ok) {
    const reasons = {
      email_taken: `a user with email ${email} already exists`,
      invalid_email: `"${email}" is not an email address`,
      weak_password: `the password must be at least ${MIN_PASSWORD_LENGTH} characters`,
    } as const;
    err.write(`Cannot create the user: ${reasons[result.reason]}\n`);
    return result.reason === 'email_taken' ? 73 : 65;
  }
  out.write(`Created ${result.user.role} ${result.user.email}\n`);
  if (generated) out.write(`Password: ${password ?? ''}  (shown once: keep it now)\n`);
  return 0;
}

async function firstLine(stream: NodeJS.ReadableStream): Promise<string> {
  let text = '';
  for await (const chunk of stream) {
    text += String(chunk);
    if (text.includes('\n')) break;
  }
  return (text.split(/\r?\n/)[0] ?? '').trim();
}
