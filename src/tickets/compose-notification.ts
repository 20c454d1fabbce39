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

/**
 * The provider's first message, in Spanish, with what they need to decide: number, place, specialty,
 * description, reporter and a link. With an approved template it becomes that template's parameters,
 * in this order: {{1}} number, {{2}} place, {{3}} specialty, {{4}} description, {{5}} reporter, {{6}} link.
 */
export function composeProviderNotification(
  content: NotificationContent,
  options: ComposeOptions,
): OutgoingMessage {
  const place = content.address === null ? content.location : `${content.address}, ${content.location}`;
  const reporter = describeReporter(content);
  if (options.templateName !== null) {
    const parameters = [
      content.number,
      place,
      content.specialty,
      truncate(content.description, DESCRIPTION_LIMIT),
      reporter ?? 'No indicado',
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
    ];
    return { kind: 'template', name: options.templateName, language: options.templateLanguage, components };
  }
  const lines = [
    `🔧 *Nuevo servicio ${content.number}*`,
    `📍 ${place}`,
    `🛠️ ${content.specialty}`,
    '',
    truncate(content.description, DESCRIPTION_LIMIT),
  ];
  if (reporter !== null) lines.push('', `👤 ${reporter}`);
  lines.push('', `Ver el ticket: ${content.link}`);
  return { kind: 'text', body: lines.join('\n'), previewUrl: false };
}

/** The center's message when nobody matched: the same facts, saying that no provider was found. */
export function composeCenterNotification(content: NotificationContent, reason: string): OutgoingMessage {
  const place = content.address === null ? content.location : `${content.address}, ${content.location}`;
  const reporter = describeReporter(content);
  const lines = [
    `⚠️ *Ticket ${content.number} sin proveedor*`,
    reason,
    '',
    `📍 ${place}`,
    `🛠️ ${content.specialty}`,
    '',
    truncate(content.description, DESCRIPTION_LIMIT),
  ];
  if (reporter !== null) lines.push('', `👤 ${reporter}`);
  lines.push('', `Asignar: ${content.link}`);
  return { kind: 'text', body: lines.join('\n'), previewUrl: false };
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
