import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

describe('serving the web app', () => {
  let t: TestApp;
  let webRoot: string;

  beforeAll(async () => {
    webRoot = mkdtempSync(path.join(tmpdir(), 'khk-web-'));
    mkdirSync(path.join(webRoot, 'assets'));
    writeFileSync(path.join(webRoot, 'index.html'), '<!doctype html><title>app</title>');
    writeFileSync(path.join(webRoot, 'assets', 'index-abc123.js'), 'console.log(1)');
    t = await startTestApp({ dialect: 'sqlite', webRoot });
  });
  afterAll(async () => {
    await t?.close();
    rmSync(webRoot, { recursive: true, force: true });
  });

  it('serves index.html at / and for deep links, never cached', async () => {
    for (const pathname of ['/', '/tickets/01abc', '/sandbox/573001112233']) {
      const res = await fetch(`${t.url}${pathname}`);
      expect(res.status, pathname).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/text\/html/);
      expect(res.headers.get('cache-control')).toBe('no-cache');
      expect(await res.text()).toContain('<title>app</title>');
    }
  });

  it('serves hashed assets as immutable', async () => {
    const res = await fetch(`${t.url}/assets/index-abc123.js`);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toContain('immutable');
  });

  it('keeps answering unknown /api routes with the JSON envelope, not the app', async () => {
    const res = await t.request('GET', '/api/nothing-here');
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ success: false, error: { code: 'not_found' } });
  });

  it('says how to build the app when it is not built', async () => {
    const bare = await startTestApp({ dialect: 'sqlite', webRoot: path.join(webRoot, 'missing') });
    try {
      const res = await fetch(`${bare.url}/`);
      expect(await res.text()).toContain('npm run build');
    } finally {
      await bare.close();
    }
  });
});
