/**
 * Browser tests: Debian's Chromium (/usr/bin/chromium, installed by .ci/run) driven by playwright-core
 * against a real app serving the built UI (npm run build:web → dist/web).
 */
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { REPO_ROOT } from './child-server.js';

export const CHROMIUM_PATH = '/usr/bin/chromium';
export const WEB_ROOT = path.join(REPO_ROOT, 'dist', 'web');
export const ARTIFACTS_DIR = path.join(REPO_ROOT, 'test-artifacts');

/** Fails with what to do when the UI was not built (npm test builds it first). */
export function builtWebRoot(): string {
  if (!existsSync(path.join(WEB_ROOT, 'index.html'))) {
    throw new Error(`The web app is not built (${WEB_ROOT}): run \`npm run build:web\` first`);
  }
  return WEB_ROOT;
}

export function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`${CHROMIUM_PATH} is missing: apt-get install -y chromium (.ci/run does it)`);
  }
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

export function artifactPath(name: string): string {
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  return path.join(ARTIFACTS_DIR, name);
}

/** Logs in through the login form and waits for the tickets page. */
export async function logIn(
  page: Page,
  baseUrl: string,
  user: { email: string; password: string },
): Promise<void> {
  await page.goto(`${baseUrl}/`);
  await page.getByLabel(/Correo electrónico|Email/).fill(user.email);
  await page.getByLabel(/Contraseña|Password/).fill(user.password);
  await page.getByRole('button', { name: /^(Entrar|Log in)$/ }).click();
  await page.getByRole('heading', { level: 1, name: 'Tickets' }).waitFor();
}
