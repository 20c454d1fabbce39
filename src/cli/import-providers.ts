import { readFile } from 'node:fs/promises';
import type { Database } from '../db/database.js';
import { importProviders, type ImportReport } from '../providers/import-providers.js';
import { ProviderStore } from '../providers/provider-store.js';
import type { Clock } from '../shared/clock.js';
import { AppError } from '../shared/error-codes.js';
import type { CountryCode } from '../whatsapp/phone-number.js';

export interface ImportProvidersArgs {
  file: string;
  database: Database;
  defaultCountry: CountryCode;
  clock: Clock;
  /** Validate and count only. */
  dryRun?: boolean;
  stdout?: (text: string) => void;
  stderr?: (text: string) => void;
}

/** Exit codes: 0 all rows imported, 65 some rows refused (the others were imported), 1 invalid file, 66 unreadable file. */
export const IMPORT_EXIT = { ok: 0, invalidFile: 1, refusedRows: 65, unreadable: 66 } as const;

/**
 * `keyhomekey import-providers <file.csv> [--dry-run]`: creates or updates providers by phone and prints
 * what happened to every row. Nothing is written when the file cannot be parsed.
 */
export async function runImportProviders(args: ImportProvidersArgs): Promise<number> {
  const out = args.stdout ?? ((text: string) => void process.stdout.write(text));
  const err = args.stderr ?? ((text: string) => void process.stderr.write(text));

  let bytes: Buffer;
  try {
    bytes = await readFile(args.file);
  } catch (error) {
    err(`Cannot read ${args.file}: ${error instanceof Error ? error.message : String(error)}\n`);
    return IMPORT_EXIT.unreadable;
  }

  const store = new ProviderStore({
    db: args.database.db,
    clock: args.clock,
    defaultCountry: args.defaultCountry,
  });
  let report: ImportReport;
  try {
    report = await importProviders({ store }, bytes, { dryRun: args.dryRun === true });
  } catch (error) {
    if (error instanceof AppError && error.code === 'invalid_csv') {
      err(`${args.file}: ${error.message}. Nothing was imported.\n`);
      return IMPORT_EXIT.invalidFile;
    }
    throw error;
  }
  out(formatImportReport(args.file, report));
  return report.refused.length > 0 ? IMPORT_EXIT.refusedRows : IMPORT_EXIT.ok;
}

export function formatImportReport(file: string, report: ImportReport): string {
  const verb = report.dryRun ? 'would be ' : '';
  const lines = [
    `${file}: ${report.total} provider rows${report.dryRun ? ' (dry run, nothing written)' : ''}`,
    `  ${verb}created: ${report.created}`,
    `  ${verb}updated: ${report.updated}`,
    `  refused: ${report.refused.length}`,
    ...report.refused.map(
      (refused) =>
        `    row ${refused.row}${refused.field === undefined ? '' : ` (${refused.field})`}: ${refused.reason}`,
    ),
  ];
  return `${lines.join('\n')}\n`;
}
