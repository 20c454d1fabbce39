import type { WireSendMessageRequest } from '../whatsapp/wire-types.js';

/**
 * Raw HTTP helpers for tests and benchmarks that talk to the sandbox's Graph routes directly,
 * without the service's client, so they see exactly what went over the wire.
 */
export interface RawAnswer {
  status: number;
  headers: Headers;
  /** Parsed JSON, or the raw text when the body is not JSON (e.g. the HTML 502). */
  body: unknown;
}

export interface GraphCallOptions {
  /** null sends no Authorization header. */
  token?: string | null;
  phoneNumberId?: string;
  version?: string;
  signal?: AbortSignal;
}

export const TEST_PHONE_NUMBER_ID = '106540352242922';

export async function postMessage(
  baseUrl: string,
  body: unknown,
  options: GraphCallOptions & { token: string | null },
): Promise<RawAnswer> {
  const { token, phoneNumberId = TEST_PHONE_NUMBER_ID, version = 'v24.0' } = options;
  const response = await fetch(`${baseUrl}/${version}/${phoneNumberId}/messages`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(token === null ? {} : { authorization: `Bearer ${token}` }),
    },
    body: JSON.stringify(body),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  return readAnswer(response);
}

export async function readAnswer(response: Response): Promise<RawAnswer> {
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // Not JSON: keep the text, as a client would have to.
  }
  return { status: response.status, headers: response.headers, body };
}

export function textMessage(
  to: string,
  body = 'Ticket T-1 asignado',
  callbackData?: string,
): WireSendMessageRequest {
  return {
    messaging_product: 'whatsapp',
    to,
    type: 'text',
    text: { body },
    ...(callbackData === undefined ? {} : { biz_opaque_callback_data: callbackData }),
  };
}

export function templateMessage(to: string): WireSendMessageRequest {
  return {
    messaging_product: 'whatsapp',
    to,
    type: 'template',
    template: {
      name: 'nuevo_ticket_mantenimiento',
      language: { code: 'es', policy: 'deterministic' },
      components: [{ type: 'body', parameters: [{ type: 'text', text: 'Calle 93 #11-27' }] }],
    },
  };
}

export function buttonsMessage(
  to: string,
  titles: string[] = ['Aceptar', 'Rechazar'],
): WireSendMessageRequest {
  return {
    messaging_product: 'whatsapp',
    to,
    type: 'interactive',
    interactive: {
      type: 'button',
      body: { text: '¿Acepta el servicio?' },
      action: {
        buttons: titles.map((title, index) => ({ type: 'reply', reply: { id: `b${index}`, title } })),
      },
    },
  };
}
