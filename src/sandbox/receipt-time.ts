import type { FastifyRequest } from 'fastify';

const receipts = new WeakMap<FastifyRequest, number>();

/** Remembers when `request` arrived (its headers were read), in ms since the epoch. */
export function stampReceipt(request: FastifyRequest, nowMs: number): void {
  receipts.set(request, nowMs);
}

/** When `request` arrived, or `fallbackMs` for a request that was not stamped. */
export function receiptTime(request: FastifyRequest, fallbackMs: number): number {
  return receipts.get(request) ?? fallbackMs;
}
