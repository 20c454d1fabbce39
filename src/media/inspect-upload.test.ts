import { crc32 } from 'node:zlib';
import { jpeg, pdf, png } from '../../test/helpers/sample-files.js';
import { describe, expect, it } from 'vitest';
import {
  DOCUMENT_MAX_BYTES,
  IMAGE_MAX_BYTES,
  inspectUpload,
  MAX_FILES_PER_TICKET,
} from './inspect-upload.js';

/** A zip of stored (uncompressed) entries. */
function zip(entries: Record<string, string>): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const [name, content] of Object.entries(entries)) {
    const nameBytes = Buffer.from(name, 'utf8');
    const data = Buffer.from(content, 'utf8');
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x21, 12); // 1980-01-01
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBytes.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x21, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(nameBytes.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, nameBytes, data);
    centrals.push(central, nameBytes);
    offset += local.length + nameBytes.length + data.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(Object.keys(entries).length, 8);
  end.writeUInt16LE(Object.keys(entries).length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

const XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>';

/** An OOXML package; with the defaults, a minimal Word document that Word opens. */
function officeOpenXml(mainContentType: string, mainPart = '/word/document.xml'): Buffer {
  return zip({
    '[Content_Types].xml':
      `${XML}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">` +
      '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>' +
      '<Default Extension="xml" ContentType="application/xml"/>' +
      `<Override PartName="${mainPart}" ContentType="${mainContentType}"/></Types>`,
    '_rels/.rels':
      `${XML}<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
      '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" ' +
      `Target="${mainPart.slice(1)}"/></Relationships>`,
    [mainPart.slice(1)]:
      `${XML}<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">` +
      '<w:body><w:p><w:r><w:t>Gotera en la cocina</w:t></w:r></w:p></w:body></w:document>',
  });
}

const DOCX_MAIN = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml';

/** A compound-file header, then the UTF-16LE name of a stream as it appears in the CFB directory. */
function compoundFile(stream: string): Buffer {
  const header = Buffer.alloc(512);
  Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]).copy(header);
  const entry = Buffer.alloc(128);
  Buffer.from(`${stream}\0`, 'utf16le').copy(entry);
  return Buffer.concat([header, entry]);
}

/** The image limit plus one byte, behind a real PNG header. */
function oversizedPng(): Buffer {
  const data = Buffer.alloc(IMAGE_MAX_BYTES + 1);
  png().copy(data);
  return data;
}

describe('inspectUpload accepts', () => {
  it.each([
    ['a PNG', png(), 'foto.png', 'image', 'image/png', 'png', 'foto.png'],
    ['a JPEG', jpeg(), 'IMG_0001.JPG', 'image', 'image/jpeg', 'jpg', 'IMG_0001.JPG'],
    ['a JPEG named .jpeg', jpeg(), 'daño.jpeg', 'image', 'image/jpeg', 'jpg', 'daño.jpeg'],
    ['a PDF', pdf(), 'factura.pdf', 'document', 'application/pdf', 'pdf', 'factura.pdf'],
    [
      'a minimal Word document',
      officeOpenXml(DOCX_MAIN),
      'informe.docx',
      'document',
      'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
      'docx',
      'informe.docx',
    ],
    [
      'an OOXML package whose main part is a workbook',
      officeOpenXml(
        'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml',
        '/xl/workbook.xml',
      ),
      'costos.xlsx',
      'document',
      'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
      'xlsx',
      'costos.xlsx',
    ],
    [
      'an OOXML package whose main part is a presentation',
      officeOpenXml(
        'application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml',
        '/ppt/presentation.xml',
      ),
      'obra.pptx',
      'document',
      'application/vnd.openxmlformats-officedocument.presentationml.presentation',
      'pptx',
      'obra.pptx',
    ],
    [
      'UTF-8 text',
      Buffer.from('Gotera en el baño 🚿\n', 'utf8'),
      'nota.txt',
      'document',
      'text/plain',
      'txt',
      'nota.txt',
    ],
    [
      'UTF-8 text with a byte-order mark',
      Buffer.from('\uFEFFLlave del lavamanos rota\r\n', 'utf8'),
      'NOTA.TXT',
      'document',
      'text/plain',
      'txt',
      'NOTA.TXT',
    ],
    [
      'text that starts like a bitmap or an executable',
      Buffer.from('BM Reparaciones: MZ-300 cambiado\n'),
      'nota.txt',
      'document',
      'text/plain',
      'txt',
      'nota.txt',
    ],
    [
      'a Word 97 file',
      compoundFile('WordDocument'),
      'acta.doc',
      'document',
      'application/msword',
      'doc',
      'acta.doc',
    ],
    [
      'an Excel 97 file',
      compoundFile('Workbook'),
      'gastos.XLS',
      'document',
      'application/vnd.ms-excel',
      'xls',
      'gastos.XLS',
    ],
    [
      'a PowerPoint 97 file',
      compoundFile('PowerPoint Document'),
      'plano.ppt',
      'document',
      'application/vnd.ms-powerpoint',
      'ppt',
      'plano.ppt',
    ],
  ])('%s', async (_label, data, declaredFilename, kind, contentType, extension, safeFilename) => {
    expect(await inspectUpload({ data, declaredFilename })).toEqual({
      ok: true,
      kind,
      contentType,
      extension,
      safeFilename,
    });
  });

  it('an image of exactly the limit', async () => {
    const data = oversizedPng().subarray(0, IMAGE_MAX_BYTES);
    expect(await inspectUpload({ data, declaredFilename: 'big.png' })).toMatchObject({
      ok: true,
      kind: 'image',
    });
  });

  it('trusts the bytes over the name, and fixes the displayed extension', async () => {
    expect(await inspectUpload({ data: png(), declaredFilename: 'photo.jpg' })).toMatchObject({
      ok: true,
      contentType: 'image/png',
      extension: 'png',
      safeFilename: 'photo.png',
    });
    expect(await inspectUpload({ data: pdf(), declaredFilename: 'invoice.exe' })).toMatchObject({
      contentType: 'application/pdf',
      safeFilename: 'invoice.pdf',
    });
  });

  it('reduces a hostile name to a display name', async () => {
    const inspect = async (declaredFilename: string | undefined): Promise<unknown> =>
      ((await inspectUpload({ data: png(), declaredFilename })) as { safeFilename?: string }).safeFilename;

    expect(await inspect('../../etc/passwd.png')).toBe('passwd.png');
    expect(await inspect('..\\..\\Windows\\foto.png')).toBe('foto.png');
    expect(await inspect(undefined)).toBe('file.png');
    expect(await inspect('..')).toBe('file.png');
    expect(await inspect('a\u202Egnp.exe')).toBe('agnp.png');
  });
});

describe('inspectUpload refuses', () => {
  it.each([
    [
      'an executable named .jpg',
      Buffer.concat([Buffer.from('MZ'), Buffer.alloc(62)]),
      'foto.jpg',
      'application/x-msdownload',
    ],
    ['a GIF', Buffer.from('GIF89a\x01\x00\x01\x00\x00\x00\x00;', 'latin1'), 'anim.gif', 'image/gif'],
    [
      'a GIF named .jpg',
      Buffer.from('GIF89a\x01\x00\x01\x00\x00\x00\x00;', 'latin1'),
      'anim.jpg',
      'image/gif',
    ],
    ['HTML', Buffer.from('<!DOCTYPE html><html><script>alert(1)</script></html>'), 'page.html', 'recognise'],
    ['HTML named .txt', Buffer.from('\n  <html><body>hi</body></html>'), 'nota.txt', 'markup'],
    [
      'SVG',
      Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'),
      'logo.svg',
      'recognise',
    ],
    ['SVG named .txt', Buffer.from('<?xml version="1.0"?><svg/>'), 'logo.txt', 'markup'],
    ['text with NUL bytes', Buffer.from('hola\0mundo'), 'nota.txt', 'NUL'],
    ['text that is not UTF-8', Buffer.from([0x63, 0x61, 0xf1, 0x6f]), 'nota.txt', 'UTF-8'],
    ['text without a .txt name', Buffer.from('just words'), 'nota.md', 'recognise'],
    ['an empty file', Buffer.alloc(0), 'vacio.txt', 'empty'],
    [
      'a compound file without an Office name',
      compoundFile('WordDocument'),
      'setup.msi',
      '.doc, .xls or .ppt',
    ],
    [
      'a compound file not in its named format',
      compoundFile('SummaryInformation'),
      'acta.doc',
      'not in that format',
    ],
    ['a Word file named .xls', compoundFile('WordDocument'), 'gastos.xls', 'not in that format'],
    [
      'a macro-enabled Word document',
      officeOpenXml('application/vnd.ms-word.document.macroEnabled.main+xml'),
      'macro.docm',
      'macroenabled',
    ],
  ])('%s', async (_label, data, declaredFilename, mentions) => {
    const result = await inspectUpload({ data, declaredFilename });
    expect(result).toMatchObject({ ok: false, code: 'unsupported_media_type' });
    const { message } = result as { message: string };
    expect(message).toContain(`"${declaredFilename}"`);
    expect(message).toContain(mentions);
  });

  it('an image over 5 MB, naming the file and the limit', async () => {
    expect(await inspectUpload({ data: oversizedPng(), declaredFilename: 'grande.png' })).toEqual({
      ok: false,
      code: 'file_too_large',
      message: `"grande.png" is too large (${IMAGE_MAX_BYTES + 1} bytes); images may be at most 5 MB.`,
    });
  });

  it('any file over 100 MB, before sniffing it', async () => {
    const data = Buffer.alloc(DOCUMENT_MAX_BYTES + 1);
    pdf().copy(data);
    expect(await inspectUpload({ data, declaredFilename: undefined })).toEqual({
      ok: false,
      code: 'file_too_large',
      message: `The uploaded file is too large (${DOCUMENT_MAX_BYTES + 1} bytes); files may be at most 100 MB.`,
    });
  });

  it('names the file in a harmless form', async () => {
    const result = await inspectUpload({
      data: Buffer.from('GIF89a', 'latin1'),
      declaredFilename: '../x"y.gif',
    });
    expect(result).toMatchObject({ ok: false, message: expect.stringMatching(/^"x_y\.gif" is image\/gif/) });
  });
});

it('allows ten files per ticket', () => {
  expect(MAX_FILES_PER_TICKET).toBe(10);
});
