/**
 * What matching compares: "Usaquén " and "usaquen" are the same place, "Plomería" and "PLOMERIA" the same
 * trade. Trims, collapses inner whitespace, lowercases and strips diacritics (NFD, then combining marks
 * removed), so ñ counts as n.
 */
export function toMatchKey(text: string): string {
  return text
    .trim()
    .replace(/\s+/gu, ' ')
    .toLowerCase()
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .normalize('NFC');
}
