export const SAFE_FILENAME_MAX_LENGTH = 100;

// Controls, format characters (bidi overrides that disguise "gpj.exe" as "exe.jpg") and lone
// surrogates; whitespace controls (tab, newline) have become spaces by then.
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Cs}]/gu;
// The name is at the end; a multi-megabyte "name" is not worth normalizing whole.
const MAX_DECLARED_LENGTH = 1024;
const RESERVED = /["*:<>?|]/g;
// Something after the last dot is only an extension if it looks like one: "v2.0" keeps its ".0".
const EXTENSION_LIKE = /^(?=.*[a-z])[a-z0-9]{1,5}$/i;

/**
 * A user's file name reduced to a harmless display name: the last path segment, NFC, no invisible or
 * shell/Windows-reserved characters, no leading dots. Null when nothing usable is left. Never a path.
 */
export function cleanFilename(declared: string | undefined): string | null {
  if (declared === undefined) return null;
  const segments = declared.slice(-MAX_DECLARED_LENGTH).normalize('NFC').split(/[/\\]/);
  const cleaned = (segments[segments.length - 1] ?? '')
    .replace(/\s/g, ' ')
    .replace(INVISIBLE, '')
    .replace(RESERVED, '_')
    .replace(/ {2,}/g, ' ')
    .replace(/^[\s.]+|[\s.]+$/g, '');
  return cleaned === '' ? null : cleaned;
}

/**
 * `cleanFilename`, ending in an extension that matches the sniffed type (`extension`, or one of
 * `aliases` if the user already used it), at most 100 characters; `file.<extension>` when no name is left.
 */
export function safeFilename(
  declared: string | undefined,
  extension: string,
  aliases: readonly string[] = [],
): string {
  const cleaned = cleanFilename(declared) ?? 'file';
  const dot = cleaned.lastIndexOf('.');
  const currentExtension = dot > 0 ? cleaned.slice(dot + 1) : '';
  const lower = currentExtension.toLowerCase();
  if (lower === extension || aliases.includes(lower)) {
    return fit(cleaned.slice(0, dot), currentExtension);
  }
  return fit(EXTENSION_LIKE.test(currentExtension) ? cleaned.slice(0, dot) : cleaned, extension);
}

function fit(stem: string, extension: string): string {
  const room = SAFE_FILENAME_MAX_LENGTH - extension.length - 1;
  // Code points, not UTF-16 units, so a cut never splits a surrogate pair.
  const cut = Array.from(stem)
    .slice(0, room)
    .join('')
    .replace(/[\s.]+$/, '');
  return `${cut === '' ? 'file' : cut}.${extension}`;
}
