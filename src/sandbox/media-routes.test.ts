import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type {
  WireGraphErrorResponse,
  WireMediaInfoResponse,
  WireMediaUploadResponse,
} from '../whatsapp/wire-types.js';
import { startSandbox, type RunningSandbox } from './start-sandbox.js';
import { postMessage, readAnswer, TEST_PHONE_NUMBER_ID, type RawAnswer } from './test-support.js';

const TOKEN = 'test-token';
const PROVIDER = '573104567890';
const PHOTO = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 4, 5, 6, 7, 8, 0xff, 0xd9]);

let sandbox: RunningSandbox;
let now: number;

beforeEach(async () => {
  now = Date.now();
  sandbox = await startSandbox({ tokens: [TOKEN], clock: () => now });
});

afterEach(async () => {
  await sandbox.close();
});

async function upload(
  fields: { messaging_product?: string; type?: string },
  file: { bytes: Buffer; name: string; mime: string } | null,
  phoneNumberId = TEST_PHONE_NUMBER_ID,
): Promise<RawAnswer> {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  if (file) form.append('file', new Blob([file.bytes], { type: file.mime }), file.name);
  const response = await fetch(`${sandbox.url}/v24.0/${phoneNumberId}/media`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}` },
    body: form,
  });
  return readAnswer(response);
}

const uploadPhoto = (phoneNumberId?: string): Promise<RawAnswer> =>
  upload(
    { messaging_product: 'whatsapp', type: 'image/jpeg' },
    { bytes: PHOTO, name: 'dano.jpg', mime: 'image/jpeg' },
    phoneNumberId,
  );

const graphGet = (path: string, token: string | null = TOKEN): Promise<Response> =>
  fetch(sandbox.url + path, token === null ? {} : { headers: { authorization: `Bearer ${token}` } });

describe('media API', () => {
  it('uploads a photo, sends it by id, and serves its bytes through the info url with the token', async () => {
    const uploaded = await uploadPhoto();
    expect(uploaded.status).toBe(200);
    const { id } = uploaded.body as WireMediaUploadResponse;
    expect(id).toMatch(/^\d{16}$/);

    const sent = await postMessage(
      sandbox.url,
      { messaging_product: 'whatsapp', to: PROVIDER, type: 'image', image: { id, caption: 'Foto del daño' } },
      { token: TOKEN },
    );
    expect(sent.status).toBe(200);
    expect(sandbox.state.messagesFor(PROVIDER)[0]?.request.image).toEqual({ id, caption: 'Foto del daño' });

    const info = (await (await graphGet(`/v24.0/${id}`)).json()) as WireMediaInfoResponse;
    expect(info).toEqual({
      messaging_product: 'whatsapp',
      url: expect.stringContaining(
        `${sandbox.url}/lookaside/whatsapp_business/attachments/?mid=${id}`,
      ) as string,
      mime_type: 'image/jpeg',
      sha256: createHash('sha256').update(PHOTO).digest('hex'),
      file_size: String(PHOTO.length),
      id,
    });

    const download = await fetch(info.url, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(download.status).toBe(200);
    expect(download.headers.get('content-type')).toBe('image/jpeg');
    expect(Buffer.from(await download.arrayBuffer())).toEqual(PHOTO);

    const withoutToken = await fetch(info.url);
    expect(withoutToken.status).toBe(401);
  });

  it('accepts files above the default 1 MB body limit (a 2 MB PDF)', async () => {
    const pdf = Buffer.alloc(2 * 1024 * 1024, 0x25);
    const answer = await upload(
      { messaging_product: 'whatsapp', type: 'application/pdf' },
      { bytes: pdf, name: 'orden.pdf', mime: 'application/pdf' },
    );
    expect(answer.status).toBe(200);
    const { id } = answer.body as WireMediaUploadResponse;
    expect(sandbox.state.media.get(id)?.bytes.length).toBe(pdf.length);
  });

  it('expires the download url after five minutes', async () => {
    const { id } = (await uploadPhoto()).body as WireMediaUploadResponse;
    const info = (await (await graphGet(`/v24.0/${id}`)).json()) as WireMediaInfoResponse;
    now += 5 * 60 * 1000 + 1000;
    const expired = await fetch(info.url, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(expired.status).toBe(403);
  });

  it('deletes media; the id then no longer resolves nor sends', async () => {
    const { id } = (await uploadPhoto()).body as WireMediaUploadResponse;
    const deleted = await fetch(`${sandbox.url}/v24.0/${id}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(await deleted.json()).toEqual({ success: true });

    const info = await readAnswer(await graphGet(`/v24.0/${id}`));
    expect(info.status).toBe(400);
    expect((info.body as WireGraphErrorResponse).error.code).toBe(100);

    const sent = await postMessage(
      sandbox.url,
      { messaging_product: 'whatsapp', to: PROVIDER, type: 'image', image: { id } },
      { token: TOKEN },
    );
    expect((sent.body as WireGraphErrorResponse).error.code).toBe(131053);
  });

  it('only lets the uploading number send the media (131053)', async () => {
    const { id } = (await uploadPhoto('111')).body as WireMediaUploadResponse;
    const sent = await postMessage(
      sandbox.url,
      { messaging_product: 'whatsapp', to: PROVIDER, type: 'image', image: { id } },
      { token: TOKEN, phoneNumberId: '222' },
    );
    expect(sent.status).toBe(400);
    expect((sent.body as WireGraphErrorResponse).error.code).toBe(131053);
  });

  it.each<[string, Parameters<typeof upload>[0], Parameters<typeof upload>[1], number]>([
    [
      'a missing messaging_product',
      { type: 'image/jpeg' },
      { bytes: PHOTO, name: 'a.jpg', mime: 'image/jpeg' },
      100,
    ],
    ['a missing file', { messaging_product: 'whatsapp', type: 'image/jpeg' }, null, 100],
    [
      'a missing type',
      { messaging_product: 'whatsapp' },
      { bytes: PHOTO, name: 'a.jpg', mime: 'image/jpeg' },
      100,
    ],
    [
      'an unsupported type',
      { messaging_product: 'whatsapp', type: 'image/gif' },
      { bytes: PHOTO, name: 'a.gif', mime: 'image/gif' },
      100,
    ],
    [
      'an image over 5 MB',
      { messaging_product: 'whatsapp', type: 'image/png' },
      { bytes: Buffer.alloc(5 * 1024 * 1024 + 1), name: 'big.png', mime: 'image/png' },
      131053,
    ],
  ])('refuses an upload with %s', async (_label, fields, file, code) => {
    const answer = await upload(fields, file);
    expect(answer.status).toBe(400);
    expect((answer.body as WireGraphErrorResponse).error.code).toBe(code);
  });

  it('needs the Graph token for info, upload and delete', async () => {
    const { id } = (await uploadPhoto()).body as WireMediaUploadResponse;
    const info = await readAnswer(await graphGet(`/v24.0/${id}`, null));
    const uploadWithout = await readAnswer(
      await fetch(`${sandbox.url}/v24.0/${TEST_PHONE_NUMBER_ID}/media`, {
        method: 'POST',
        body: new FormData(),
      }),
    );
    const deleteWithout = await readAnswer(await fetch(`${sandbox.url}/v24.0/${id}`, { method: 'DELETE' }));
    for (const answer of [info, uploadWithout, deleteWithout]) {
      expect(answer.status).toBe(401);
      expect((answer.body as WireGraphErrorResponse).error.code).toBe(190);
    }
    expect(sandbox.state.stats().storedMedia).toBe(1);
  });
});
