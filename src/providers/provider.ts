import { normalizePhoneNumber, type CountryCode } from '../whatsapp/phone-number.js';
import { toMatchKey } from './match-key.js';

/** `local`: entered by people (API, CSV); `directory`: adopted from the external directory during matching. */
export type ProviderSource = 'local' | 'directory';

/** A provider as the API returns it. */
export interface Provider {
  id: string;
  name: string;
  /** Digits with the country code, no `+` (e.g. `573103055424`). */
  phone: string;
  location: string;
  specialties: string[];
  active: boolean;
  source: ProviderSource;
  /** When matching last gave this provider a ticket (ISO), or null if never. */
  lastAssignedAt: string | null;
  /** Answers to offers so far, and the rank they give (null = no history; provider-ranking.ts). */
  stats: { accepted: number; declined: number; expired: number; rankMinutes: number | null };
  createdAt: string;
  updatedAt: string;
}

/** What a person sends to create a provider; the phone as typed. */
export interface ProviderInput {
  name: string;
  phone: string;
  location: string;
  specialties: string[];
  active?: boolean | undefined;
}

/** PATCH: only the fields present change; `specialties` replaces the whole list. */
export type ProviderPatch = Partial<ProviderInput>;

/** A provider's fields after validation: trimmed text, normalized phone, matching keys. */
export interface PreparedProvider {
  name: string;
  phone: string;
  location: string;
  locationKey: string;
  /** As written (trimmed), one per key, first spelling wins. */
  specialties: string[];
  specialtyKeys: string[];
  active: boolean;
}

export type FieldResult<T> =
  | { ok: true; value: T }
  | { ok: false; field: string; code: 'validation_error' | 'invalid_phone_number'; message: string };

export const NAME_MAX_LENGTH = 120;
export const LOCATION_MAX_LENGTH = 120;
export const SPECIALTY_MAX_LENGTH = 120;
export const MAX_SPECIALTIES = 20;

export function prepareName(name: string, field = 'name'): FieldResult<string> {
  return prepareText(name, field, NAME_MAX_LENGTH);
}

export function prepareLocation(location: string, field = 'location'): FieldResult<string> {
  return prepareText(location, field, LOCATION_MAX_LENGTH);
}

/** Normalized and validated like the notify endpoint's `to`. */
export function preparePhone(
  phone: string,
  defaultCountry: CountryCode,
  field = 'phone',
): FieldResult<string> {
  const normalized = normalizePhoneNumber(phone, defaultCountry);
  if (!normalized.ok) {
    return {
      ok: false,
      field,
      code: 'invalid_phone_number',
      message: `Invalid phone number: ${normalized.reason}`,
    };
  }
  return { ok: true, value: normalized.digits };
}

/** 1–20 non-empty specialties; spellings of one key ("Plomería", "plomeria") count once. */
export function prepareSpecialties(
  specialties: readonly string[],
  field = 'specialties',
): FieldResult<{ specialties: string[]; keys: string[] }> {
  const byKey = new Map<string, string>();
  for (const [index, raw] of specialties.entries()) {
    const text = prepareText(raw, `${field}.${index}`, SPECIALTY_MAX_LENGTH);
    if (!text.ok) return text;
    const key = toMatchKey(text.value);
    if (!byKey.has(key)) byKey.set(key, text.value);
  }
  if (byKey.size === 0) return invalid(field, `${field} must list at least one specialty`);
  if (byKey.size > MAX_SPECIALTIES) return invalid(field, `${field} must list at most ${MAX_SPECIALTIES}`);
  return { ok: true, value: { specialties: [...byKey.values()], keys: [...byKey.keys()] } };
}

/** Validates a whole new provider; the first problem wins. */
export function prepareProvider(
  input: ProviderInput,
  defaultCountry: CountryCode,
): FieldResult<PreparedProvider> {
  const name = prepareName(input.name);
  if (!name.ok) return name;
  const phone = preparePhone(input.phone, defaultCountry);
  if (!phone.ok) return phone;
  const location = prepareLocation(input.location);
  if (!location.ok) return location;
  const specialties = prepareSpecialties(input.specialties);
  if (!specialties.ok) return specialties;
  return {
    ok: true,
    value: {
      name: name.value,
      phone: phone.value,
      location: location.value,
      locationKey: toMatchKey(location.value),
      specialties: specialties.value.specialties,
      specialtyKeys: specialties.value.keys,
      active: input.active ?? true,
    },
  };
}

function prepareText(value: string, field: string, maxLength: number): FieldResult<string> {
  const trimmed = value.trim();
  if (trimmed === '') return invalid(field, `${field} must not be empty`);
  if (trimmed.length > maxLength) return invalid(field, `${field} must be at most ${maxLength} characters`);
  return { ok: true, value: trimmed };
}

function invalid(field: string, message: string): FieldResult<never> {
  return { ok: false, field, code: 'validation_error', message };
}
