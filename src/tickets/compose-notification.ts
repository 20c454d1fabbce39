import type { OutgoingMessage } from '../whatsapp/whatsapp-client.js';
import type { WireTemplateComponent } from '../whatsapp/wire-types.js';

export interface NotificationContent {
  number: string;
  location: string;
  address: string | null;
  specialty: string;
  description: string;
  reporterName: string | null;
  /** Only when NOTIFY_INCLUDE_REPORTER_PHONE is on. */
  reporterPhone: string | null;
  link: string;
}

export interface ComposeOptions {
  /** WHATSAPP_TEMPLATE_NEW_TICKET, or null for a text message. */
  templateName: string | null;
  templateLanguage: string;
}

/** Descriptions are cut on a word boundary so the message stays short enough to read on a phone. */
export const DESCRIPTION_LIMIT = 500;
/** Meta allows 1024 characters per template body parameter; keep well inside it. */
const TEMPLATE_PARAMETER_LIMIT = 900;

/** The two answers of an offer, as button payloads (`accept:<token>`, `decline:<token>`). */
export interface OfferButtons {
  accept: string;
  decline: string;
  /** Shown under the question, e.g. "Responde en 30 min". */
  footer: string;
}

/** Meta's limit for an interactive message's body. */
const INTERACTIVE_BODY_LIMIT = 1024;

/**
 * The provider's first message, in Spanish, with what they need to decide: number, place, specialty,
 * description, reporter and a link, and two buttons, **Aceptar** and **Rechazar**. With an approved
 * template (WHATSAPP_TEMPLATE_NEW_TICKET, whose quick replies are Aceptar then Rechazar) it becomes that
 * template's parameters, in this order: {{1}} number, {{2}} place, {{3}} specialty, {{4}} description,
 * {{5}} reporter, {{6}} link, with the payloads on its two quick-reply buttons; otherwise an interactive
 * message with two reply buttons (design.md §2c).
 */
export function composeProviderNotification(
  content: NotificationContent,
  options: ComposeOptions,
  buttons: OfferButtons,
): OutgoingMessage {
  if (options.templateName !== null) {
    const template = { templateName: options.templateName, templateLanguage: options.templateLanguage };
    return composeTemplate(content, template, buttons);
  }
  return {
    kind: 'interactive',
    body: fitBody(offerLines(content, `🔧 *Nuevo servicio ${content.number}*`, 'Ver el ticket')),
    footer: buttons.footer,
    buttons: [
      { id: buttons.accept, title: 'Aceptar' },
      { id: buttons.decline, title: 'Rechazar' },
    ],
  };
}

/** The template form of an offer (also the center's fallback outside its 24-hour window). */
export function composeTemplate(
  content: NotificationContent,
  options: ComposeOptions & { templateName: string },
  buttons: Pick<OfferButtons, 'accept' | 'decline'>,
): OutgoingMessage {
  const parameters = [
    content.number,
    placeOf(content),
    content.specialty,
    truncate(content.description, DESCRIPTION_LIMIT),
    describeReporter(content) ?? 'No indicado',
    content.link,
  ];
  const components: WireTemplateComponent[] = [
    {
      type: 'body',
      parameters: parameters.map((text) => ({
        type: 'text',
        text: truncate(oneLine(text), TEMPLATE_PARAMETER_LIMIT),
      })),
    },
    ...[buttons.accept, buttons.decline].map(
      (payload, index): WireTemplateComponent => ({
        type: 'button',
        sub_type: 'quick_reply',
        index: String(index),
        parameters: [{ type: 'payload', payload }],
      }),
    ),
  ];
  return { kind: 'template', name: options.templateName, language: options.templateLanguage, components };
}

/**
 * The center's message when nobody (or nobody else) can take the ticket: the same facts, why, and a
 * **Tomar** button; the first tap from the center takes the ticket.
 */
export function composeCenterNotification(
  content: NotificationContent,
  reason: string,
  takePayload: string,
): OutgoingMessage {
  const lines = offerLines(content, `⚠️ *Ticket ${content.number} sin proveedor*\n${reason}`, 'Asignar');
  return {
    kind: 'interactive',
    body: fitBody(lines),
    footer: 'Toca Tomar para encargarte',
    buttons: [{ id: takePayload, title: 'Tomar' }],
  };
}

/** What the provider gets once they accept: everything, including the reporter's contact. */
export function composeAcceptedDetails(content: NotificationContent): OutgoingMessage {
  const lines = [
    `✅ *Servicio ${content.number} asignado a ti*`,
    `📍 ${placeOf(content)}`,
    `🛠️ ${content.specialty}`,
    '',
    truncate(content.description, 3000),
  ];
  const reporter = describeReporter(content);
  if (reporter !== null) lines.push('', `👤 ${reporter}`);
  lines.push('', `Ver el ticket: ${content.link}`);
  return { kind: 'text', body: lines.join('\n'), previewUrl: false };
}

/** One ticket file as a media message: photos as images, anything else as a document. */
export function composeMediaMessage(
  file: { contentType: string; filename: string; link: string },
  caption: string,
): OutgoingMessage {
  return file.contentType.startsWith('image/')
    ? { kind: 'image', link: file.link, caption }
    : { kind: 'document', link: file.link, caption, filename: file.filename };
}

/** Short answers to taps. */
export const REPLIES = {
  alreadyAssigned: 'Este servicio ya fue asignado. ¡Gracias por responder!',
  declined: (number: string) => `Entendido, gracias. Ofreceremos el servicio ${number} a otra persona.`,
  taken: (number: string) => `Tomaste el ticket ${number}.`,
  alreadyTaken: (number: string) => `El ticket ${number} ya fue tomado.`,
  acceptedBy: (number: string, name: string, phone: string) =>
    `ℹ️ El servicio ${number} fue aceptado por ${name} (+${phone}).`,
  reporterAccepted: (number: string, name: string) =>
    `Tu solicitud ${number} fue aceptada por ${name}. Te contactará pronto.`,
} as const;

function offerLines(content: NotificationContent, heading: string, linkLabel: string): string[] {
  const lines = [
    heading,
    `📍 ${placeOf(content)}`,
    `🛠️ ${content.specialty}`,
    '',
    truncate(content.description, DESCRIPTION_LIMIT),
  ];
  const reporter = describeReporter(content);
  if (reporter !== null) lines.push('', `👤 ${reporter}`);
  lines.push('', `${linkLabel}: ${content.link}`);
  return lines;
}

/** Keeps an interactive body inside Meta's limit by shortening the description, never the link. */
function fitBody(lines: string[]): string {
  const body = lines.join('\n');
  const excess = [...body].length - INTERACTIVE_BODY_LIMIT;
  if (excess <= 0) return body;
  const descriptionIndex = lines.findIndex((line, index) => index > 0 && line === '') + 1;
  const description = lines[descriptionIndex] ?? '';
  const shortened = [...lines];
  shortened[descriptionIndex] = truncate(description, Math.max(20, [...description].length - excess - 1));
  return truncate(shortened.join('\n'), INTERACTIVE_BODY_LIMIT);
}

function placeOf(content: NotificationContent): string {
  return content.address === null ? content.location : `${content.address}, ${content.location}`;
}

function describeReporter(content: NotificationContent): string | null {
  if (content.reporterName === null && content.reporterPhone === null) return null;
  if (content.reporterPhone === null) return `Reporta: ${content.reporterName}`;
  const phone = `+${content.reporterPhone}`;
  return content.reporterName === null ? `Reporta: ${phone}` : `Reporta: ${content.reporterName} (${phone})`;
}

/** Cuts at the last word boundary before `limit` characters (code points) and adds an ellipsis. */
export function truncate(text: string, limit: number): string {
  const chars = [...text.trim()];
  if (chars.length <= limit) return chars.join('');
  const cut = chars.slice(0, limit - 1).join('');
  const boundary = cut.lastIndexOf(' ');
  return `${(boundary > limit * 0.6 ? cut.slice(0, boundary) : cut).trimEnd()}…`;
}

// Template parameters may not contain newlines, tabs or more than four consecutive spaces (Meta 132018).
function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}
