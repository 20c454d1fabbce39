import { describe, expect, it } from 'vitest';
import { AppError } from '../shared/error-codes.js';
import { decodeCsv, detectDelimiter, parseActive, parseProviderCsv } from './import-providers.js';

const parse = (text: string) => parseProviderCsv(text, 'CO');

function csvError(text: string): AppError {
  try {
    parse(text);
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error('expected invalid_csv');
}

describe('parseProviderCsv', () => {
  it('reads rows, normalizes phones and splits specialties on ; and |', () => {
    const result = parse(
      [
        'name,phone,location,specialties,active',
        'Ana Pérez,310 305 5424,Chapinero ,Plomería; Electricidad,sí',
        'Luis,+57 300 123 4567,Usaquén,Pintura|Cerrajería|pintura,0',
      ].join('\n'),
    );
    expect(result.refused).toEqual([]);
    expect(result.total).toBe(2);
    expect(result.rows).toEqual([
      {
        row: 2,
        name: 'Ana Pérez',
        phone: '573103055424',
        location: 'Chapinero',
        locationKey: 'chapinero',
        specialties: ['Plomería', 'Electricidad'],
        specialtyKeys: ['plomeria', 'electricidad'],
        active: true,
      },
      {
        row: 3,
        name: 'Luis',
        phone: '573001234567',
        location: 'Usaquén',
        locationKey: 'usaquen',
        specialties: ['Pintura', 'Cerrajería'],
        specialtyKeys: ['pintura', 'cerrajeria'],
        active: false,
      },
    ]);
  });

  it('accepts Spanish headers in any case, any column order, extra columns, CRLF and a BOM', () => {
    const result = parse(
      '\uFEFFNotas;Especialidades;Teléfono;NOMBRE;Ubicación\r\nx;Plomería;3103055424;Ana;Chapinero\r\n',
    );
    expect(result.refused).toEqual([]);
    expect(result.rows[0]).toMatchObject({
      name: 'Ana',
      phone: '573103055424',
      location: 'Chapinero',
      active: null,
    });
  });

  it('reads quoted cells with delimiters, quotes and line breaks inside', () => {
    const result = parse(
      'name,phone,location,specialties\n"Pérez, Ana ""la plomera""",3103055424,"Chapinero\nAlto","Plomería;Gas"\nLuis,3001234567,Suba,Pintura\n',
    );
    expect(result.refused).toEqual([]);
    expect(result.rows.map((r) => [r.row, r.name, r.location])).toEqual([
      [2, 'Pérez, Ana "la plomera"', 'Chapinero\nAlto'],
      [3, 'Luis', 'Suba'],
    ]);
  });

  it('refuses bad rows with their spreadsheet row number and field, and keeps the good ones', () => {
    const result = parse(
      [
        'name,phone,location,specialties,active',
        ',3103055424,Chapinero,Plomería,', // 2: no name
        'Ana,123,Chapinero,Plomería,', // 3: bad phone
        'Luis,3001234567,,Plomería,', // 4: no location
        'Eva,3001234568,Suba,;|,', // 5: no specialty
        'Iván,3001234569,Suba,Gas,quizás', // 6: bad active
        '', // 7: blank, skipped
        'Ana B,310 305 5424,Suba,Gas,', // 8: ok
        'Copy,+573103055424,Suba,Gas,', // 9: same phone as row 8
        'Long,3001234570,Suba,Gas,,extra', // 10: too many fields
        ',,,,', // 11: blank
        'Ok,3001234571,Suba,Gas', // 12: short row (no active) is fine
      ].join('\n'),
    );
    expect(result.refused).toEqual([
      { row: 2, field: 'name', reason: 'name must not be empty' },
      { row: 3, field: 'phone', reason: expect.stringMatching(/^Invalid phone number: /) },
      { row: 4, field: 'location', reason: 'location must not be empty' },
      { row: 5, field: 'specialties', reason: 'specialties must list at least one specialty' },
      { row: 6, field: 'active', reason: 'active must be true/false, 1/0 or sí/no' },
      { row: 9, field: 'phone', reason: 'phone is the same as on row 8' },
      { row: 10, reason: 'row has 6 fields, the header has 5' },
    ]);
    expect(result.rows.map((r) => r.row)).toEqual([8, 12]);
    expect(result.total).toBe(9);
  });

  it('refuses names and locations over 120 characters and more than 20 specialties', () => {
    const many = Array.from({ length: 21 }, (_, i) => `S${i}`).join(';');
    const result = parse(
      `name,phone,location,specialties\n${'n'.repeat(121)},3103055424,Suba,Gas\nAna,3103055425,${'l'.repeat(121)},Gas\nEva,3103055426,Suba,${many}\n`,
    );
    expect(result.refused.map((r) => [r.row, r.field])).toEqual([
      [2, 'name'],
      [3, 'location'],
      [4, 'specialties'],
    ]);
  });

  it('accepts a header-only file as zero rows', () => {
    expect(parse('name,phone,location,specialties\n')).toEqual({ rows: [], refused: [], total: 0 });
  });

  it.each([
    ['an empty file', '', 1],
    ['only blank lines', '\n\n', 1],
    ['a missing required column', 'name,phone,location\nAna,3103055424,Suba\n', 1],
    ['a column given twice', 'name,phone,location,specialties,nombre\n', 1],
    [
      'an unclosed quote (where it opened)',
      'name,phone,location,specialties\nAna,3103055424,Suba,Gas\n"Luis,3001234567,Suba,Gas\nEva,3001234568,Suba,Gas\n',
      3,
    ],
    [
      'a quote inside an unquoted cell',
      'name,phone,location,specialties\nAna,3103055424,Suba,Gas\nLu"is",3001234567,Suba,Gas\n',
      3,
    ],
    ['text after a closing quote', 'name,phone,location,specialties\n"Ana"x,3103055424,Suba,Gas\n', 2],
  ])('throws invalid_csv with the line for %s', (_name, text, line) => {
    const error = csvError(text);
    expect(error.code).toBe('invalid_csv');
    expect(error.details?.line).toBe(line);
  });

  it('names the missing columns', () => {
    expect(csvError('nombre,telefono\n').details).toMatchObject({ missing: ['location', 'specialties'] });
  });
});

describe('detectDelimiter', () => {
  it.each([
    ['name,phone,location,specialties', ','],
    ['name;phone;location;specialties', ';'],
    ['name\tphone\tlocation\tspecialties', '\t'],
    ['"a;b",phone,location,specialties', ','],
    ['name', ','],
    ['name,phone\na;b;c;d;e', ','],
  ])('%j → %j', (text, delimiter) => {
    expect(detectDelimiter(text)).toBe(delimiter);
  });
});

describe('parseActive', () => {
  it.each([
    ['true', true],
    ['TRUE', true],
    ['1', true],
    ['sí', true],
    ['Si', true],
    ['yes', true],
    ['false', false],
    ['0', false],
    ['No', false],
    ['', null],
    ['  ', null],
    ['maybe', undefined],
  ])('%j → %j', (value, expected) => {
    expect(parseActive(value)).toBe(expected);
  });
});

describe('decodeCsv', () => {
  it('reads UTF-8, and Windows-1252 when the bytes are not UTF-8', () => {
    expect(decodeCsv(Buffer.from('Usaquén', 'utf8'))).toBe('Usaquén');
    expect(decodeCsv(Buffer.from([0x55, 0x73, 0x61, 0x71, 0x75, 0xe9, 0x6e]))).toBe('Usaquén');
  });
});
