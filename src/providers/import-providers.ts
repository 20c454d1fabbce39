import { CsvError, parse } from 'csv-parse/sync';
import { AppError } from '../shared/error-codes.js';
import type { CountryCode } from '../whatsapp/phone-number.js';
import { toMatchKey } from './match-key.js';
import {
  prepareLocation,
  prepareName,
  preparePhone,
  prepareSpecialties,
  type FieldResult,
} from './provider.js';
import type { ImportRow, ProviderStore } from './provider-store.js';

/**
 * CSV import of providers. The file needs a header row with `name, phone, location, specialties` (Spanish
 * names work too: nombre, telefono, ubicacion, especialidades) and may have `active`; other columns are
 * ignored. Specialties in one cell are separated by `;` or `|`. The delimiter is `,`, `;` or a tab, read
 * from the header line (spreadsheets in Spanish save with `;`).
 *
 * Rows are numbered as a spreadsheet shows them: the header is row 1, the first provider row 2.
 * A file that cannot be parsed (or lacks a required column) is `invalid_csv` and nothing is written; a
 * row with a problem is refused and reported, and the other rows are written in one transaction.
 */
export interface ImportReport {
  /** Provider rows in the file (blank rows not counted). */
  total: number;
  created: number;
  updated: number;
  refused: RefusedRow[];
  dryRun: boolean;
}

export interface RefusedRow {
  row: number;
  reason: string;
  field?: string;
}

export interface ImportDeps {
  store: ProviderStore;
}

export interface ImportOptions {
  /** Validate and count only; nothing is written. */
  dryRun?: boolean;
}

export interface ParsedProviderCsv {
  rows: (ImportRow & { row: number })[];
  refused: RefusedRow[];
  total: number;
}

type Column = 'name' | 'phone' | 'location' | 'specialties' | 'active';
const REQUIRED_COLUMNS: readonly Column[] = ['name', 'phone', 'location', 'specialties'];

/** Header names (as match keys) → column. */
const COLUMN_ALIASES: Record<string, Column> = {
  name: 'name',
  nombre: 'name',
  phone: 'phone',
  telefono: 'phone',
  celular: 'phone',
  whatsapp: 'phone',
  location: 'location',
  ubicacion: 'location',
  localidad: 'location',
  specialties: 'specialties',
  specialty: 'specialties',
  especialidades: 'specialties',
  especialidad: 'specialties',
  active: 'active',
  activo: 'active',
};

const TRUE_WORDS = new Set(['true', '1', 'si', 'yes']);
const FALSE_WORDS = new Set(['false', '0', 'no']);

export async function importProviders(
  deps: ImportDeps,
  csv: string | Uint8Array,
  options: ImportOptions = {},
): Promise<ImportReport> {
  const text = typeof csv === 'string' ? csv : decodeCsv(csv);
  const parsed = parseProviderCsv(text, deps.store.defaultCountry);
  const dryRun = options.dryRun === true;
  const written =
    parsed.rows.length === 0
      ? { created: 0, updated: 0 }
      : await deps.store.importRows(parsed.rows, { dryRun });
  return { total: parsed.total, ...written, refused: parsed.refused, dryRun };
}

/** UTF-8 (with or without BOM); a file that is not valid UTF-8 is read as Windows-1252 (Excel's "CSV"). */
export function decodeCsv(bytes: Uint8Array): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return new TextDecoder('windows-1252').decode(bytes);
  }
}

/** Parses and validates; throws `invalid_csv` for a broken file, refuses bad rows. Writes nothing. */
export function parseProviderCsv(text: string, defaultCountry: CountryCode): ParsedProviderCsv {
  const records = readRecords(text);
  const headerIndex = records.findIndex((r) => !isBlank(r.record));
  const header = records[headerIndex];
  if (header === undefined) throw new AppError('invalid_csv', 'The CSV file is empty', { line: 1 });
  const columns = readHeader(header.record, header.row);

  const rows: ParsedProviderCsv['rows'] = [];
  const refused: RefusedRow[] = [];
  const rowByPhone = new Map<string, number>();
  let total = 0;
  for (const { record, row } of records.slice(headerIndex + 1)) {
    if (isBlank(record)) continue;
    total += 1;
    const result = readRow(record, header.record.length, columns, defaultCountry);
    if (!result.ok) {
      refused.push({ row, reason: result.message, ...(result.field === '' ? {} : { field: result.field }) });
      continue;
    }
    const firstRow = rowByPhone.get(result.value.phone);
    if (firstRow !== undefined) {
      refused.push({ row, reason: `phone is the same as on row ${firstRow}`, field: 'phone' });
      continue;
    }
    rowByPhone.set(result.value.phone, row);
    rows.push({ ...result.value, row });
  }
  return { rows, refused, total };
}

function readRecords(text: string): { record: string[]; row: number }[] {
  try {
    const parsed = parse(text, {
      delimiter: detectDelimiter(text),
      bom: true,
      info: true,
      relax_column_count: true,
      trim: true,
      skip_empty_lines: false,
    }) as unknown as { record: string[]; info: { records: number } }[];
    return parsed.map(({ record, info }) => ({ record, row: info.records }));
  } catch (error) {
    if (!(error instanceof CsvError)) throw error;
    if (error.code === 'CSV_QUOTE_NOT_CLOSED') {
      const line = unclosedQuoteLine(text);
      throw new AppError('invalid_csv', `The CSV file has a quote opened at line ${line} and never closed`, {
        line,
        reason: error.code,
      });
    }
    const line = typeof error.lines === 'number' ? error.lines : 1;
    throw new AppError('invalid_csv', `The CSV file cannot be read at line ${line}: ${error.message}`, {
      line,
      reason: error.code,
    });
  }
}

/** csv-parse reports the end of the file; the line where the quote opened is what a person needs. */
function unclosedQuoteLine(text: string): number {
  let line = 1;
  let openedAt = 1;
  let inQuotes = false;
  for (const char of text) {
    if (char === '"') {
      inQuotes = !inQuotes;
      if (inQuotes) openedAt = line;
    } else if (char === '\n') line += 1;
  }
  return openedAt;
}

/** The most frequent of `,` `;` tab on the first line, outside quotes; `,` when none. */
export function detectDelimiter(text: string): ',' | ';' | '\t' {
  const counts = { ',': 0, ';': 0, '\t': 0 };
  let inQuotes = false;
  for (const char of text) {
    if (char === '"') inQuotes = !inQuotes;
    else if (!inQuotes && (char === '\n' || char === '\r')) break;
    else if (!inQuotes && (char === ',' || char === ';' || char === '\t')) counts[char] += 1;
  }
  if (counts[';'] > counts[','] && counts[';'] >= counts['\t']) return ';';
  if (counts['\t'] > counts[','] && counts['\t'] > counts[';']) return '\t';
  return ',';
}

function readHeader(record: string[], line: number): Map<Column, number> {
  const columns = new Map<Column, number>();
  for (const [index, name] of record.entries()) {
    const column = COLUMN_ALIASES[toMatchKey(name)];
    if (column === undefined) continue;
    if (columns.has(column)) {
      throw new AppError('invalid_csv', `The CSV header has the column ${column} twice`, { line, column });
    }
    columns.set(column, index);
  }
  const missing = REQUIRED_COLUMNS.filter((column) => !columns.has(column));
  if (missing.length > 0) {
    throw new AppError(
      'invalid_csv',
      `The CSV header must have the columns name, phone, location, specialties; missing: ${missing.join(', ')}`,
      { line, missing },
    );
  }
  return columns;
}

function readRow(
  record: string[],
  headerLength: number,
  columns: Map<Column, number>,
  defaultCountry: CountryCode,
): FieldResult<ImportRow> {
  if (record.length > headerLength && record.slice(headerLength).some((cell) => cell !== '')) {
    return invalid('', `row has ${record.length} fields, the header has ${headerLength}`);
  }
  const cell = (column: Column): string => {
    const index = columns.get(column);
    return index === undefined ? '' : (record[index] ?? '');
  };
  const name = prepareName(cell('name'));
  if (!name.ok) return name;
  const phone = preparePhone(cell('phone'), defaultCountry);
  if (!phone.ok) return phone;
  const location = prepareLocation(cell('location'));
  if (!location.ok) return location;
  const specialties = prepareSpecialties(
    cell('specialties')
      .split(/[;|]/)
      .map((s) => s.trim())
      .filter((s) => s !== ''),
  );
  if (!specialties.ok) return { ...specialties, field: 'specialties' };
  const active = parseActive(cell('active'));
  if (active === undefined) return invalid('active', 'active must be true/false, 1/0 or sí/no');
  return {
    ok: true,
    value: {
      name: name.value,
      phone: phone.value,
      location: location.value,
      locationKey: toMatchKey(location.value),
      specialties: specialties.value.specialties,
      specialtyKeys: specialties.value.keys,
      active,
    },
  };
}

/** null: not given (keep / default active); undefined: not a yes or no. */
export function parseActive(value: string): boolean | null | undefined {
  const key = toMatchKey(value);
  if (key === '') return null;
  if (TRUE_WORDS.has(key)) return true;
  if (FALSE_WORDS.has(key)) return false;
  return undefined;
}

function isBlank(record: string[]): boolean {
  return record.every((cell) => cell.trim() === '');
}

function invalid(field: string, message: string): FieldResult<never> {
  return { ok: false, field, code: 'validation_error', message };
}
