import { randomBytes } from 'node:crypto';

/**
 * An offer of a ticket to one recipient: a provider (who may accept or decline before the deadline) or
 * the center (who may take it). Its life:
 *   offered    → accepted (provider tapped Aceptar)   | taken (the center tapped Tomar)
 *              → declined (Rechazar)  | expired (deadline passed)  | failed (the offer could not be delivered)
 *              → superseded (someone reassigned the ticket by hand)
 * Only `offered` moves; every move is a conditional update, so one tap or one timer wins.
 */
export const ASSIGNMENT_STATUSES = [
  'offered',
  'accepted',
  'taken',
  'declined',
  'expired',
  'failed',
  'superseded',
] as const;
export type AssignmentStatus = (typeof ASSIGNMENT_STATUSES)[number];
export type AssignmentKind = 'provider' | 'center';

/** What a button says: the provider's two answers, and the center's. */
export type ReplyAction = 'accept' | 'decline' | 'take';

/** 16 random bytes: a reply token cannot be guessed from another ticket's. */
export function newReplyToken(): string {
  return randomBytes(16).toString('base64url');
}

/** The button payload / reply id: `accept:<token>`. */
export function replyPayload(action: ReplyAction, token: string): string {
  return `${action}:${token}`;
}

/** Reads a button payload back; anything that is not one of ours is null. */
export function parseReplyPayload(payload: string): { action: ReplyAction; token: string } | null {
  const match = /^(accept|decline|take):([A-Za-z0-9_-]{16,64})$/.exec(payload.trim());
  if (match === null) return null;
  return { action: match[1] as ReplyAction, token: match[2] ?? '' };
}

/** ASSIGNMENT_TIMEOUT_MIN, overridden per specialty (keys are match keys). */
export interface OfferTimeouts {
  defaultMs: number;
  bySpecialtyKey: ReadonlyMap<string, number>;
}

export function offerTimeoutMs(timeouts: OfferTimeouts, specialtyKey: string): number {
  return timeouts.bySpecialtyKey.get(specialtyKey) ?? timeouts.defaultMs;
}
