import type { Logger } from 'pino';
import { maskPhoneNumber, type CountryCode } from '../whatsapp/phone-number.js';
import {
  MAX_SPECIALTIES,
  NAME_MAX_LENGTH,
  LOCATION_MAX_LENGTH,
  SPECIALTY_MAX_LENGTH,
  preparePhone,
} from './provider.js';

/** A provider the external directory offers; `phone` is already normalized (digits with country code). */
export interface DirectoryEntry {
  name: string;
  phone: string;
  location: string | null;
  specialties: string[];
}

export interface DirectoryQuery {
  location: string;
  specialty: string;
}

/** The external provider directory (the seed's Retel AI lookup). `find` never throws. */
export interface ProviderDirectory {
  find(query: DirectoryQuery): Promise<DirectoryEntry[]>;
}

export type DirectoryFailure =
  | 'timeout'
  | 'network'
  | 'http_status'
  | 'too_large'
  | 'invalid_json'
  | 'wrong_shape';

export interface HttpProviderDirectoryOptions {
  /** `PROVIDER_DIRECTORY_URL`; its own query parameters (e.g. a key) are kept. */
  url: string;
  /** Covers the whole exchange, body included. */
  timeoutMs: number;
  logger: Logger;
  /** For national numbers in the answer. */
  defaultCountry: CountryCode;
  fetch?: typeof fetch;
  /** Entries beyond this are ignored (default 50). */
  maxEntries?: number;
  /** Larger answers are a failure (default 1 MB). */
  maxBytes?: number;
}

const DEFAULT_MAX_ENTRIES = 50;
const DEFAULT_MAX_BYTES = 1024 * 1024;

/**
 * `GET {url}?location=…&specialty=…` → `[{name, phone, location?, specialties?}]`. A timeout, a non-2xx
 * answer, a body that is not JSON or not an array: `[]` and one warning `provider_directory.failed` with
 * its `reason`. Entries without a name or a valid phone are dropped (`provider_directory.entry_dropped`).
 * Phone numbers are logged masked only.
 */
export function createHttpProviderDirectory(options: HttpProviderDirectoryOptions): ProviderDirectory {
  const doFetch = options.fetch ?? fetch;
  const maxEntries = options.maxEntries ?? DEFAULT_MAX_ENTRIES;
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  const { logger } = options;

  return {
    async find(query) {
      const started = Date.now();
      const url = new URL(options.url);
      url.searchParams.set('location', query.location);
      url.searchParams.set('specialty', query.specialty);
      const fail = (reason: DirectoryFailure, extra: Record<string, unknown> = {}): DirectoryEntry[] => {
        logger.warn(
          { event: 'provider_directory.failed', reason, durationMs: Date.now() - started, ...extra },
          'provider directory lookup failed; matching goes on without it',
        );
        return [];
      };

      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(), options.timeoutMs);
      let body: string;
      try {
        const response = await doFetch(url, {
          headers: { accept: 'application/json' },
          signal: controller.signal,
        });
        if (!response.ok) {
          await response.body?.cancel().catch(() => undefined);
          return fail('http_status', { status: response.status });
        }
        const text = await readText(response, maxBytes);
        if (text === null) return fail('too_large', { maxBytes });
        body = text;
      } catch (error) {
        return controller.signal.aborted
          ? fail('timeout', { timeoutMs: options.timeoutMs })
          : fail('network', { error: describeError(error) });
      } finally {
        clearTimeout(timer);
      }

      let parsed: unknown;
      try {
        parsed = JSON.parse(body);
      } catch {
        return fail('invalid_json');
      }
      if (!Array.isArray(parsed))
        return fail('wrong_shape', { got: parsed === null ? 'null' : typeof parsed });

      const entries: DirectoryEntry[] = [];
      for (const [index, item] of parsed.slice(0, maxEntries).entries()) {
        const entry = readEntry(item, options.defaultCountry);
        if (entry.ok) entries.push(entry.value);
        else
          logger.warn(
            { event: 'provider_directory.entry_dropped', index, ...entry.problem },
            'directory entry dropped',
          );
      }
      logger.debug(
        { event: 'provider_directory.answered', entries: entries.length, durationMs: Date.now() - started },
        'provider directory answered',
      );
      return entries;
    },
  };
}

type EntryResult = { ok: true; value: DirectoryEntry } | { ok: false; problem: Record<string, unknown> };

function readEntry(item: unknown, defaultCountry: CountryCode): EntryResult {
  if (typeof item !== 'object' || item === null || Array.isArray(item)) {
    return { ok: false, problem: { reason: 'not_an_object' } };
  }
  const record = item as Record<string, unknown>;
  const name = typeof record.name === 'string' ? record.name.trim() : '';
  if (name === '') return { ok: false, problem: { reason: 'missing_name' } };
  const rawPhone =
    typeof record.phone === 'string'
      ? record.phone
      : typeof record.phone === 'number'
        ? String(record.phone)
        : '';
  const phone = preparePhone(rawPhone, defaultCountry);
  if (!phone.ok) return { ok: false, problem: { reason: 'invalid_phone', phone: maskPhoneNumber(rawPhone) } };
  const location = typeof record.location === 'string' ? record.location.trim() : '';
  const specialties = Array.isArray(record.specialties)
    ? record.specialties
        .filter((s): s is string => typeof s === 'string' && s.trim() !== '')
        .map((s) => s.trim().slice(0, SPECIALTY_MAX_LENGTH))
        .slice(0, MAX_SPECIALTIES)
    : [];
  return {
    ok: true,
    value: {
      name: name.slice(0, NAME_MAX_LENGTH),
      phone: phone.value,
      location: location === '' ? null : location.slice(0, LOCATION_MAX_LENGTH),
      specialties,
    },
  };
}

/** The body as text, or null when it is larger than `maxBytes` (reading stops there). */
async function readText(response: Response, maxBytes: number): Promise<string | null> {
  const declared = Number(response.headers.get('content-length') ?? '0');
  if (declared > maxBytes) {
    await response.body?.cancel().catch(() => undefined);
    return null;
  }
  if (response.body === null) return '';
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => undefined);
      return null;
    }
    parts.push(value);
  }
  return Buffer.concat(parts).toString('utf8');
}

/** `fetch failed (ECONNREFUSED)`: the message and the cause's code, never the URL (it may carry a key). */
function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error.cause as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? `${error.message} (${code})` : error.message;
}
