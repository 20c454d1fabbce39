import { randomBytes } from 'node:crypto';

/**
 * WhatsApp message ids shaped like Meta's (shared/whatsapp-cloud-api.md §6.8): base64 of
 * `1C 18 <len> <recipient digits> 15 02 00 <11 outbound | 12 inbound> 18 <len> <hex id> 00`.
 * Clients must treat them as opaque; the shape only makes sandbox traffic look like production.
 */
export type WamidDirection = 'outbound' | 'inbound';

const DIRECTION_BYTE: Record<WamidDirection, number> = { outbound: 0x11, inbound: 0x12 };

export function encodeWamid(recipientDigits: string, direction: WamidDirection, hexId: string): string {
  // One allocation per id: this runs for every accepted message.
  const bytes = Buffer.allocUnsafe(recipientDigits.length + hexId.length + 10);
  let offset = 0;
  bytes[offset++] = 0x1c;
  bytes[offset++] = 0x18;
  bytes[offset++] = recipientDigits.length;
  offset += bytes.write(recipientDigits, offset, 'latin1');
  for (const byte of [0x15, 0x02, 0x00, DIRECTION_BYTE[direction], 0x18, hexId.length])
    bytes[offset++] = byte;
  offset += bytes.write(hexId, offset, 'latin1');
  bytes[offset] = 0x00;
  return 'wamid.' + bytes.toString('base64');
}

export interface DecodedWamid {
  recipient: string;
  direction: WamidDirection;
  hexId: string;
}

/** Reads back a wamid built by {@link encodeWamid}; null for anything else. */
export function decodeWamid(wamid: string): DecodedWamid | null {
  if (!wamid.startsWith('wamid.')) return null;
  const bytes = Buffer.from(wamid.slice('wamid.'.length), 'base64');
  const recipientLength = bytes[2];
  if (bytes[0] !== 0x1c || bytes[1] !== 0x18 || recipientLength === undefined) return null;
  const afterRecipient = 3 + recipientLength;
  const directionByte = bytes[afterRecipient + 3];
  const idLength = bytes[afterRecipient + 5];
  if (idLength === undefined || bytes.length !== afterRecipient + 6 + idLength + 1) return null;
  const direction = directionByte === 0x11 ? 'outbound' : directionByte === 0x12 ? 'inbound' : null;
  if (direction === null) return null;
  return {
    recipient: bytes.subarray(3, afterRecipient).toString('ascii'),
    direction,
    hexId: bytes.subarray(afterRecipient + 6, afterRecipient + 6 + idLength).toString('ascii'),
  };
}

/**
 * Unique ids without a random draw per message: a random 32-bit prefix per sandbox instance plus a
 * counter gives Meta's 18 hex characters and stays unique across restarts in practice.
 */
export function createWamidFactory(): (recipientDigits: string, direction?: WamidDirection) => string {
  const prefix = randomBytes(4).toString('hex').toUpperCase();
  let counter = 0;
  return (recipientDigits, direction = 'outbound') => {
    counter += 1;
    return encodeWamid(
      recipientDigits,
      direction,
      prefix + counter.toString(16).toUpperCase().padStart(10, '0'),
    );
  };
}
