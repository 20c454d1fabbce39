import { parsePhoneNumberFromString, type CountryCode, type PhoneNumber } from 'libphonenumber-js/max';

export type { CountryCode } from 'libphonenumber-js/max';

export type NormalizedPhoneNumber =
  | {
      ok: true;
      /** E.164 without `+`, the form sent to Meta as `to` (e.g. `573103055424`). */
      digits: string;
      /** E.164 with `+` (e.g. `+573103055424`), the form to store. */
      e164: string;
      /** ISO 3166-1 alpha-2, or null for non-geographic numbers (e.g. +800). */
      country: string | null;
    }
  | { ok: false; reason: string };

const MIN_DIGITS = 8;
const MAX_DIGITS = 15;

/**
 * Turns what a person typed into the number Meta expects (shared/whatsapp-cloud-api.md §7). A number without
 * `+`/`00` is first read as national in `defaultCountry`, then as international, so both `310 305 5424` and
 * `573103055424` work for Colombia; foreign numbers need their country code.
 */
export function normalizePhoneNumber(input: string, defaultCountry: CountryCode): NormalizedPhoneNumber {
  // The same few numbers (providers, the center) come back again and again; parsing costs ~10 µs each.
  const key = `${defaultCountry}\u0000${input}`;
  const known = recent.get(key);
  if (known !== undefined) return known;
  const result = Object.freeze(parse(input, defaultCountry));
  if (input.length <= 64) {
    if (recent.size >= RECENT_LIMIT) recent.delete(recent.keys().next().value ?? '');
    recent.set(key, result);
  }
  return result;
}

/** The last results (oldest dropped first); each is frozen, so callers cannot change a shared one. */
const recent = new Map<string, NormalizedPhoneNumber>();
const RECENT_LIMIT = 5000;

function parse(input: string, defaultCountry: CountryCode): NormalizedPhoneNumber {
  if (/\p{L}/u.test(input)) return invalid('contains letters');
  const { digits, isInternational } = splitDialedNumber(input);
  if (digits.length < MIN_DIGITS)
    return invalid(`has ${digits.length} digits, at least ${MIN_DIGITS} needed`);
  if (digits.length > MAX_DIGITS)
    return invalid(`has ${digits.length} digits, at most ${MAX_DIGITS} allowed`);

  // National first (only when there is no `+`/`00`), then international; the second only if needed.
  const national = isInternational
    ? undefined
    : parseNational(dropLegacyTrunk(digits, defaultCountry), defaultCountry);
  const valid = national?.isValid() === true ? national : parseInternational(digits);
  return valid?.isValid() === true
    ? normalized(valid)
    : invalid(`is not a valid phone number (default country ${defaultCountry})`);
}

/** Keeps only digits; a leading `+` or `00` marks the number as international. */
function splitDialedNumber(input: string): { digits: string; isInternational: boolean } {
  const trimmed = input.trim();
  const allDigits = trimmed.replace(/\D/g, '');
  if (trimmed.startsWith('+')) return { digits: allDigits, isInternational: true };
  if (allDigits.startsWith('00')) return { digits: allDigits.slice(2), isInternational: true };
  return { digits: allDigits, isInternational: false };
}

// Colombians used to dial `03` before a mobile from a landline; it is not part of the number.
function dropLegacyTrunk(digits: string, defaultCountry: CountryCode): string {
  return defaultCountry === 'CO' && /^033\d{9}$/.test(digits) ? digits.slice(2) : digits;
}

function parseNational(digits: string, defaultCountry: CountryCode): PhoneNumber | undefined {
  return parsePhoneNumberFromString(digits, { defaultCountry, extract: false });
}

function parseInternational(digits: string): PhoneNumber | undefined {
  return parsePhoneNumberFromString(`+${digits}`, { extract: false });
}

function normalized(phone: PhoneNumber): NormalizedPhoneNumber {
  return { ok: true, digits: phone.number.slice(1), e164: phone.number, country: phone.country ?? null };
}

function invalid(problem: string): NormalizedPhoneNumber {
  return { ok: false, reason: `phone number ${problem}` };
}

const HIDDEN_DIGITS = 3;
const MAX_VISIBLE_HEAD = 5;
const MAX_VISIBLE_TAIL = 4;

/**
 * For logs: `573103055424` → `57310***5424`. At least three digits are always hidden, so short inputs show
 * proportionally less and the full number never appears.
 */
export function maskPhoneNumber(digits: string): string {
  const clean = digits.replace(/\D/g, '');
  const visible = Math.max(0, clean.length - HIDDEN_DIGITS);
  const tail = Math.min(
    MAX_VISIBLE_TAIL,
    Math.floor((visible * MAX_VISIBLE_TAIL) / (MAX_VISIBLE_HEAD + MAX_VISIBLE_TAIL)),
  );
  const head = Math.min(MAX_VISIBLE_HEAD, visible - tail);
  return `${clean.slice(0, head)}***${tail === 0 ? '' : clean.slice(-tail)}`;
}
