import { generatePassword } from './password.js';
import type { UserStore } from './user-store.js';

export type FirstAdmin =
  | { created: false }
  /** `password` is set only when it was generated: the caller prints it once. */
  | { created: true; email: string; generatedPassword: string | null };

/**
 * On a database without users, creates the first admin from ADMIN_EMAIL / ADMIN_PASSWORD, or with
 * a generated password when ADMIN_PASSWORD is unset.
 */
export async function ensureFirstAdmin(
  users: UserStore,
  admin: { email: string; password: string | null },
): Promise<FirstAdmin> {
  if ((await users.count()) > 0) return { created: false };
  const password = admin.password ?? generatePassword();
  const result = await users.create({ email: admin.email, password, role: 'admin' });
  if (!result.ok) {
    // Another process created users in the meantime: nothing to do.
    if (result.reason === 'email_taken') return { created: false };
    throw new Error(`cannot create the first admin: ${result.reason}`);
  }
  return {
    created: true,
    email: result.user.email,
    generatedPassword: admin.password === null ? password : null,
  };
}
