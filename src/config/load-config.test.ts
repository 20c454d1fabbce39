import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONFIG_VARIABLES } from './config-schema.js';
import { renderEnvExample } from './env-example.js';
import { ConfigError, loadConfig } from './load-config.js';

const load = (env: Record<string, string>) => loadConfig({ env, cwd: '/srv/app', readDotenvFiles: false });

describe('loadConfig', () => {
  it('runs on embedded defaults: SQLite under ./data and the sandbox', () => {
    const config = load({});
    expect(config).toMatchObject({
      port: 3000,
      host: '127.0.0.1',
      appOrigin: 'http://127.0.0.1:3000',
      dataDir: '/srv/app/data',
      databaseUrl: null,
      defaultCountry: 'CO',
      whatsapp: { mode: 'sandbox', apiUrl: 'https://graph.facebook.com', apiVersion: 'v24.0' },
      dispatch: { maxMps: 80, retryBaseMs: 1000, maxAttempts: 10, notifyWaitMs: 10_000 },
    });
    expect(Object.isFrozen(config.whatsapp)).toBe(true);
  });

  it("keeps the seed's variable names", () => {
    const config = load({
      WHATSAPP_TOKEN: 'tok',
      WHATSAPP_PHONE_NUMBER_ID: '106540352242922',
      INTERNAL_API_KEY: 'k'.repeat(32),
      WHATSAPP_DEFAULT_TO: '573103055424',
    });
    expect(config.whatsapp).toMatchObject({
      mode: 'cloud',
      token: 'tok',
      phoneNumberId: '106540352242922',
      defaultTo: '573103055424',
    });
    expect(config.internalApiKeys).toEqual(['k'.repeat(32)]);
  });

  it('reads TRUST_PROXY as off, on, or a list of proxy addresses', () => {
    expect(load({}).trustProxy).toBe(false);
    expect(load({ TRUST_PROXY: 'true' }).trustProxy).toBe(true);
    expect(load({ TRUST_PROXY: '10.0.0.1, 192.168.0.0/16, ::1' }).trustProxy).toEqual([
      '10.0.0.1',
      '192.168.0.0/16',
      '::1',
    ]);
  });

  it('reads offer deadlines, per specialty as written', () => {
    const config = load({
      ASSIGNMENT_TIMEOUT_MIN: '45',
      ASSIGNMENT_TIMEOUT_BY_SPECIALTY: 'Urgencias=10, Plomería = 20',
    });
    expect(config.tickets.assignmentTimeoutMs).toBe(45 * 60_000);
    expect([...config.tickets.assignmentTimeoutBySpecialty]).toEqual([
      ['Urgencias', 10 * 60_000],
      ['Plomería', 20 * 60_000],
    ]);
    expect(load({}).tickets.assignmentTimeoutMs).toBe(30 * 60_000);
  });

  it('accepts several comma-separated API keys for rotation', () => {
    expect(load({ INTERNAL_API_KEY: `${'a'.repeat(16)}, ${'b'.repeat(16)}` }).internalApiKeys).toHaveLength(
      2,
    );
  });

  it.each([
    [{ PORT: 'abc' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ WHATSAPP_MODE: 'fake' }, 'WHATSAPP_MODE'],
    [{ WHATSAPP_API_URL: 'not a url' }, 'WHATSAPP_API_URL'],
    [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL'],
    [{ DEFAULT_COUNTRY: 'XX' }, 'DEFAULT_COUNTRY'],
    [{ INTERNAL_API_KEY: 'short' }, 'INTERNAL_API_KEY'],
    [{ WHATSAPP_TEMPLATE_PARAMS: 'nuevo_ticket:6' }, 'WHATSAPP_TEMPLATE_PARAMS'],
    [{ ASSIGNMENT_TIMEOUT_BY_SPECIALTY: 'Urgencias:10' }, 'ASSIGNMENT_TIMEOUT_BY_SPECIALTY'],
    [{ ASSIGNMENT_TIMEOUT_BY_SPECIALTY: 'Urgencias=0' }, 'ASSIGNMENT_TIMEOUT_BY_SPECIALTY'],
    [{ ASSIGNMENT_TIMEOUT_MIN: '0' }, 'ASSIGNMENT_TIMEOUT_MIN'],
    [{ TRUST_PROXY: 'yes' }, 'TRUST_PROXY'],
    [{ TRUST_PROXY: '10.0.0.0/99' }, 'TRUST_PROXY'],
    [{ DISPATCH_LEASE_MS: '10000', WHATSAPP_REQUEST_TIMEOUT_MS: '15000' }, 'DISPATCH_LEASE_MS'],
    [{ NODE_ENV: 'production', WHATSAPP_TOKEN: 't', WHATSAPP_PHONE_NUMBER_ID: '1' }, 'INTERNAL_API_KEY'],
    [{ NODE_ENV: 'production', WHATSAPP_MODE: 'sandbox', INTERNAL_API_KEY: 'k'.repeat(16) }, 'WHATSAPP_MODE'],
  ])('stops at start on %j, naming %s', (env, variable) => {
    expect(() => load(env)).toThrow(ConfigError);
    try {
      load(env);
    } catch (error) {
      expect((error as ConfigError).variable).toBe(variable);
      expect((error as Error).message.startsWith(`${variable}:`)).toBe(true);
    }
  });

  it('never repeats a secret value in its error', () => {
    expect(() => load({ INTERNAL_API_KEY: 'tiny' })).toThrow(/^INTERNAL_API_KEY: each key/);
    try {
      load({ WHATSAPP_TOKEN: 'secret', WHATSAPP_PHONE_NUMBER_ID: '1', INTERNAL_API_KEY: 'secret' });
    } catch (error) {
      expect((error as Error).message).not.toContain('secret');
    }
  });

  it('does not stop without WhatsApp credentials in cloud mode (the endpoint answers 500 instead)', () => {
    expect(load({ WHATSAPP_MODE: 'cloud' }).whatsapp).toMatchObject({
      mode: 'cloud',
      token: null,
      phoneNumberId: null,
    });
  });

  it('keeps /metrics and CORS closed and the webhook limit generous by default', () => {
    expect(load({})).toMatchObject({ metricsPublic: false, corsOrigins: [], webhookRateLimitMax: 30000 });
    expect(
      load({
        METRICS_PUBLIC: 'true',
        CORS_ORIGINS: 'https://admin.example.com, http://localhost:5173/',
        WEBHOOK_RATE_LIMIT_MAX: '0',
      }),
    ).toMatchObject({
      metricsPublic: true,
      corsOrigins: ['https://admin.example.com', 'http://localhost:5173'],
      webhookRateLimitMax: 0,
    });
  });

  it.each(['*', 'admin.example.com', 'https://admin.example.com/app', 'file:///x'])(
    'refuses the CORS origin %s',
    (origin) => {
      expect(() => load({ CORS_ORIGINS: origin })).toThrow(/^CORS_ORIGINS: /);
    },
  );

  it('reads .env.local over .env, under the real environment', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'khk-config-'));
    writeFileSync(path.join(dir, '.env'), 'PORT=4000\nHOST=0.0.0.0\nLOG_LEVEL=debug\n');
    writeFileSync(path.join(dir, '.env.local'), 'PORT=5000\n');
    const config = loadConfig({ env: { LOG_LEVEL: 'warn' }, cwd: dir });
    expect(config).toMatchObject({
      port: 5000,
      host: '0.0.0.0',
      logLevel: 'warn',
      appOrigin: 'http://localhost:5000',
    });
  });
});

describe('.env.example', () => {
  it('is exactly what the schema renders (run `npm run keyhomekey -- env-example > .env.example`)', () => {
    const file = readFileSync(new URL('../../.env.example', import.meta.url), 'utf8');
    expect(file).toBe(renderEnvExample());
  });

  it('lists every variable of the schema', () => {
    const rendered = renderEnvExample();
    for (const name of Object.keys(CONFIG_VARIABLES))
      expect(rendered).toMatch(new RegExp(`^# ${name}=`, 'm'));
  });
});
