import { describe, expect, it } from 'vitest';
import { cleanFilename, SAFE_FILENAME_MAX_LENGTH, safeFilename } from './safe-filename.js';

describe('cleanFilename', () => {
  it.each([
    ['../../etc/passwd.png', 'passwd.png'],
    ['C:\\Users\\ana\\Desktop\\foto.jpg', 'foto.jpg'],
    ['/abs/path/', null],
    ['..', null],
    ['...', null],
    ['.htaccess', 'htaccess'],
    ['  spaced   out\tname .pdf  ', 'spaced out name .pdf'],
    ['line\nbreak\r\u2028.txt', 'line break .txt'],
    ['bell\u0007 and \u0085 C1.txt', 'bell and C1.txt'],
    ['invoice\u202Efdp.exe', 'invoicefdp.exe'],
    ['zero\u200Bwidth.png', 'zerowidth.png'],
    ['a"b<c>d:e|f?g*h.pdf', 'a_b_c_d_e_f_g_h.pdf'],
    ['lone\uD800surrogate.txt', 'lonesurrogate.txt'],
    ['Informe de daños 📷.pdf', 'Informe de daños 📷.pdf'],
    ['', null],
    [undefined, null],
  ])('%j → %j', (declared, expected) => {
    expect(cleanFilename(declared)).toBe(expected);
  });

  it('normalizes to NFC', () => {
    const decomposed = 'Cafe\u0301.pdf';
    expect(cleanFilename(decomposed)).toBe('Caf\u00e9.pdf');
  });
});

describe('safeFilename', () => {
  it('keeps a matching extension, or an alias, as the user wrote it', () => {
    expect(safeFilename('IMG.JPEG', 'jpg', ['jpeg'])).toBe('IMG.JPEG');
    expect(safeFilename('scan.pdf', 'pdf')).toBe('scan.pdf');
  });

  it('replaces a wrong extension and appends a missing one', () => {
    expect(safeFilename('photo.jpg', 'png')).toBe('photo.png');
    expect(safeFilename('README', 'txt')).toBe('README.txt');
    expect(safeFilename('Informe v2.0', 'pdf')).toBe('Informe v2.0.pdf');
  });

  it('falls back to file.<extension>', () => {
    expect(safeFilename(undefined, 'png')).toBe('file.png');
    expect(safeFilename('/', 'pdf')).toBe('file.pdf');
    expect(safeFilename('.pdf', 'pdf')).toBe('pdf.pdf');
  });

  it('cuts long names to 100 characters, keeping the extension and whole code points', () => {
    const long = safeFilename(`${'a'.repeat(300)}.pdf`, 'pdf');
    expect(long).toBe(`${'a'.repeat(96)}.pdf`);

    const emoji = safeFilename(`${'📷'.repeat(150)}.jpg`, 'jpg');
    expect(Array.from(emoji)).toHaveLength(SAFE_FILENAME_MAX_LENGTH);
    expect(emoji.endsWith('📷.jpg')).toBe(true);
    expect(emoji).not.toMatch(/\p{Cs}/u);
  });

  it('reads only the end of a huge declared name', () => {
    expect(safeFilename(`${'x/'.repeat(1_000_000)}ok.png`, 'png')).toBe('ok.png');
  });
});
