export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Meta counts characters, not UTF-16 units; only long strings pay for counting code points. */
export function exceedsLength(value: string, max: number): boolean {
  return value.length > max && [...value].length > max;
}
