import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { artifactPath, builtWebRoot, launchChromium, logIn } from '../helpers/browser.js';
import { jpeg } from '../helpers/sample-files.js';
import { eventually, startTestApp, type TestApp } from '../helpers/test-app.js';

const ADMIN = { email: 'admin@keyhomekey.test', password: 'admin-password-123' };
const PROVIDER = {
  name: 'Plomería Rápida',
  phone: '3004445566',
  location: 'Chapinero',
  specialties: ['Plomería'],
};
const PROVIDER_WA_ID = '573004445566';
const OPERATOR = { email: 'operator@keyhomekey.test', password: 'operator-password-123' };
/** Generous: a loaded 2-core machine runs four test suites at once. */
const UI_TIMEOUT = 30_000;

describe('the web app in Chromium', () => {
  let t: TestApp;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let ticketId = '';

  beforeAll(async () => {
    const webRoot = builtWebRoot();
    t = await startTestApp({
      dialect: 'sqlite',
      webRoot,
      env: { ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password },
    });
    const provider = await t.request('POST', '/api/providers', { body: PROVIDER });
    expect(provider.status, JSON.stringify(provider.body)).toBe(201);
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    context.setDefaultTimeout(UI_TIMEOUT);
    page = await context.newPage();
  });

  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it('builds a page a strict CSP allows: no inline script or style', () => {
    const html = readFileSync(path.join(builtWebRoot(), 'index.html'), 'utf8');
    const scripts = [...html.matchAll(/<script\b[^>]*>/g)].map((match) => match[0]);
    expect(scripts.length).toBeGreaterThan(0);
    for (const script of scripts) expect(script).toMatch(/\ssrc="\/assets\//);
    expect(html).not.toMatch(/<style\b|\sstyle="/);
  });

  it('logs in with the first admin and lands on the tickets page, in Spanish', async () => {
    await logIn(page, t.url, ADMIN);
    await expect(page.getByRole('link', { name: 'Nuevo ticket' }).first().isVisible()).resolves.toBe(true);
    expect(await page.locator('html').getAttribute('lang')).toBe('es');
  });

  it('creates a ticket with a photo (previewed) and shows it assigned to the provider', async () => {
    await page.getByRole('navigation').getByRole('link', { name: 'Nuevo ticket' }).click();
    await page.getByLabel(/^Ubicación/).fill('Chapinero');
    await page.getByLabel(/^Especialidad/).fill('Plomería');
    await page.getByLabel(/^Descripción/).fill('Fuga de agua debajo del lavamanos del baño 2.');
    await page.getByLabel(/^Dirección/).fill('Calle 93 #11-27');
    await page.getByLabel(/^Nombre de quien reporta/).fill('Carlos Pérez');
    await page
      .getByLabel('Fotos')
      .setInputFiles({ name: 'fuga.jpg', mimeType: 'image/jpeg', buffer: jpeg() });
    await page.getByTestId('photo-previews').getByRole('img', { name: 'fuga.jpg' }).waitFor();
    await page.getByRole('button', { name: 'Crear ticket' }).click();

    await page.getByTestId('ticket-detail').waitFor();
    ticketId = page.url().split('/').pop() ?? '';
    expect(ticketId).not.toBe('');
    await page.getByTestId('ticket-provider').getByText(PROVIDER.name).waitFor();
    await page.getByTestId('ticket-status').getByText('Notificado').waitFor();
    await page.getByRole('img', { name: 'fuga.jpg' }).waitFor();
    // The photo really loads (the media route accepts the session cookie).
    await eventually(
      () => page.evaluate<boolean>("(document.querySelector('.photos img')?.naturalWidth ?? 0) > 0"),
      30_000,
    );
    // The notification timeline updates while the page is open: the sandbox reports delivery.
    await page
      .getByTestId('ticket-notifications')
      .locator('[data-status="delivered"], [data-status="read"]')
      .first()
      .waitFor();
  });

  it('shows the message in the sandbox phone, as WhatsApp would', async () => {
    await page.getByRole('navigation').getByRole('link', { name: 'Teléfono sandbox' }).click();
    await page
      .getByTestId('sandbox-numbers')
      .getByRole('link', { name: new RegExp(PROVIDER_WA_ID) })
      .click();
    const conversation = page.getByTestId('sandbox-conversation');
    const ticket = await t.request('GET', `/api/tickets/${ticketId}`);
    await conversation.getByText(new RegExp(ticket.body.data.number)).first().waitFor();
  });

  it('taps a reply button in the sandbox phone; the reply reaches the service as an inbound webhook', async () => {
    const waId = '573004447788';
    await t.app.outbox.enqueue({
      to: waId,
      message: {
        kind: 'interactive',
        body: '¿Puedes atender hoy?',
        buttons: [
          { id: 'si', title: 'Sí, voy' },
          { id: 'no', title: 'No puedo' },
        ],
      },
    });
    t.app.dispatcher?.wake();
    await page.goto(`${t.url}/sandbox/${waId}`);
    const conversation = page.getByTestId('sandbox-conversation');
    await conversation.getByText('¿Puedes atender hoy?').waitFor();
    await conversation.getByRole('button', { name: 'Sí, voy' }).click();
    await conversation.locator('[data-direction="inbound"]').getByText('Sí, voy').waitFor();
    await eventually(async () => {
      const inbound = await t.request('GET', `/api/messages?direction=inbound&to=${waId}`);
      return inbound.body.data.items.length === 1;
    }, 30_000);
  });

  it('taps Aceptar in the sandbox phone and the open ticket page changes to accepted', async () => {
    // The provider's first message carries Aceptar / Rechazar (the accept/decline loop).
    const state = t.app.sandbox?.state;
    const first = state?.conversation(PROVIDER_WA_ID).find((item) => item.direction === 'outbound');
    expect(first?.direction === 'outbound' && state?.buttonsOf(first).map((button) => button.title)).toEqual([
      'Aceptar',
      'Rechazar',
    ]);

    // The ticket page stays open in a second tab and must change by itself (it polls).
    const ticketPage = await context.newPage();
    try {
      await ticketPage.goto(`${t.url}/tickets/${ticketId}`);
      await ticketPage.getByTestId('ticket-status').getByText('Notificado').waitFor();
      await page.goto(`${t.url}/sandbox/${PROVIDER_WA_ID}`);
      await page.getByTestId('sandbox-conversation').getByRole('button', { name: 'Aceptar' }).first().click();
      await ticketPage.getByTestId('ticket-status').getByText('Aceptado').waitFor();
      // The history shows the tap.
      await ticketPage.getByText('Aceptado por el proveedor').first().waitFor();
    } finally {
      await ticketPage.close();
    }
  });

  it('keeps what was typed when the server refuses the form, and shows the field error', async () => {
    await page.goto(`${t.url}/tickets/new`);
    await page.getByLabel(/^Ubicación/).fill('Chapinero');
    await page.getByLabel(/^Especialidad/).fill('Plomería');
    await page.getByLabel(/^Descripción/).fill('Se cayó el techo del garaje.');
    await page.getByLabel(/^Teléfono de quien reporta/).fill('12');
    await page.getByRole('button', { name: 'Crear ticket' }).click();

    await page.getByTestId('form-error').waitFor();
    const phone = page.getByLabel(/^Teléfono de quien reporta/);
    await expect(phone.getAttribute('aria-invalid')).resolves.toBe('true');
    await expect(phone.inputValue()).resolves.toBe('12');
    await expect(page.getByLabel(/^Ubicación/).inputValue()).resolves.toBe('Chapinero');
    await expect(page.getByLabel(/^Especialidad/).inputValue()).resolves.toBe('Plomería');
    await expect(page.getByLabel(/^Descripción/).inputValue()).resolves.toBe('Se cayó el techo del garaje.');
    expect(page.url()).toMatch(/\/tickets\/new$/);
    // The refused request created nothing.
    const list = await t.request('GET', '/api/tickets');
    expect(list.body.data.items).toHaveLength(1);
  });

  it('manages providers as an admin: add, edit, deactivate, and import a CSV with its row report', async () => {
    await page.goto(`${t.url}/providers`);
    await page.getByRole('button', { name: 'Agregar proveedor' }).click();
    await page.getByLabel('Nombre').fill('Electricistas Unidos');
    await page.getByLabel('Teléfono').fill('3005551234');
    await page.getByLabel('Ubicación').fill('Usaquén');
    await page.getByLabel('Especialidades').fill('Electricidad, Iluminación');
    await page.getByRole('button', { name: 'Guardar' }).click();
    const list = page.getByTestId('provider-list');
    await list.getByText('Electricistas Unidos').waitFor();

    await list.getByRole('button', { name: 'Editar Electricistas Unidos' }).click();
    await page.getByLabel('Nombre').fill('Electricistas Unidos SAS');
    await page.getByRole('button', { name: 'Guardar' }).click();
    await list.getByText('Electricistas Unidos SAS').waitFor();

    await list.getByRole('button', { name: 'Desactivar Electricistas Unidos SAS' }).click();
    await list.getByRole('button', { name: 'Activar Electricistas Unidos SAS' }).waitFor();

    await page.getByText('Importar CSV').click();
    const csv =
      'name,phone,location,specialties\nCerrajería 24h,3005559876,Chapinero,Cerrajería\nSin número,12,Chapinero,Plomería\n';
    await page
      .getByLabel('Archivo CSV')
      .setInputFiles({ name: 'proveedores.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
    await page.getByRole('button', { name: 'Importar', exact: true }).click();
    const report = page.getByTestId('import-report');
    await report.getByText('2 filas: 1 creados, 0 actualizados, 1 rechazados.').waitFor();
    await report.getByText('Fila 3').waitFor();
    await list.getByText('Cerrajería 24h').waitFor();
  });

  it('shows an operator the providers read-only, with no Users page', async () => {
    const created = await t.request('POST', '/api/users', { body: { ...OPERATOR, role: 'operator' } });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const operatorContext = await browser.newContext();
    operatorContext.setDefaultTimeout(UI_TIMEOUT);
    try {
      const operatorPage = await operatorContext.newPage();
      await logIn(operatorPage, t.url, OPERATOR);
      await operatorPage.getByRole('navigation').getByRole('link', { name: 'Proveedores' }).click();
      await operatorPage.getByText('Solo un administrador puede cambiar proveedores.').waitFor();
      await operatorPage.getByTestId('provider-list').getByText(PROVIDER.name).waitFor();
      expect(await operatorPage.getByRole('button', { name: 'Agregar proveedor' }).count()).toBe(0);
      expect(await operatorPage.getByRole('navigation').getByRole('link', { name: 'Usuarios' }).count()).toBe(
        0,
      );
    } finally {
      await operatorContext.close();
    }
  });

  it('filters the messages log by number', async () => {
    await page.goto(`${t.url}/messages`);
    await page.getByLabel('Número').fill(PROVIDER_WA_ID);
    await page.getByRole('button', { name: 'Filtrar' }).click();
    await page.waitForURL(/\/messages\?to=/);
    const list = page.getByTestId('message-list');
    await list.getByText(`+${PROVIDER_WA_ID}`).first().waitFor();
    expect(await list.getByText('+573004447788').count()).toBe(0);
  });

  it('switches to English and remembers it after a reload, then back to Spanish', async () => {
    await page.goto(`${t.url}/tickets`);
    await page.getByTestId('language-switch').click();
    await page.getByRole('navigation').getByRole('link', { name: 'Providers' }).waitFor();
    await page.reload();
    await page.getByRole('navigation').getByRole('link', { name: 'Providers' }).waitFor();
    expect(await page.locator('html').getAttribute('lang')).toBe('en');
    await page.getByTestId('language-switch').click();
    await page.getByRole('navigation').getByRole('link', { name: 'Proveedores' }).waitFor();
  });

  it('fits a 360 px wide phone screen (screenshot in test-artifacts/)', async () => {
    const phone = await browser.newContext({
      viewport: { width: 360, height: 740 },
      deviceScaleFactor: 2,
      isMobile: true,
      hasTouch: true,
    });
    phone.setDefaultTimeout(UI_TIMEOUT);
    try {
      const small = await phone.newPage();
      await logIn(small, t.url, ADMIN);
      for (const [name, path] of [
        ['tickets', '/tickets'],
        ['new-ticket', '/tickets/new'],
        ['ticket', `/tickets/${ticketId}`],
        ['sandbox-phone', `/sandbox/${PROVIDER_WA_ID}`],
        ['providers', '/providers'],
        ['messages', '/messages'],
      ] as const) {
        await small.goto(`${t.url}${path}`);
        await small.locator('main h1').first().waitFor();
        await eventually(async () => !(await small.getByText(/Cargando…/).isVisible()), 30_000);
        const width = await small.evaluate<number>('document.documentElement.scrollWidth');
        expect(width, `${name} is ${width} px wide`).toBeLessThanOrEqual(360);
        writeFileSync(artifactPath(`web-360-${name}.png`), await small.screenshot({ fullPage: true }));
      }
    } finally {
      await phone.close();
    }
  });
});
