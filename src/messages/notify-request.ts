import { AppError } from '../shared/error-codes.js';
import type { OutgoingMessage } from '../whatsapp/whatsapp-client.js';
import type { WireTemplateComponent } from '../whatsapp/wire-types.js';

/** The notify endpoint's body beyond `to`: the seed's `message`, plus templates and media. */
export interface NotifyContent {
  message?: string | undefined;
  template?:
    | {
        name: string;
        language?: string | undefined;
        parameters?: string[] | undefined;
        components?: WireTemplateComponent[] | undefined;
      }
    | undefined;
  mediaUrl?: string | undefined;
  mediaId?: string | undefined;
  mediaType?: 'image' | 'document' | undefined;
  caption?: string | undefined;
  filename?: string | undefined;
}

export interface NotifyMessages {
  message: OutgoingMessage;
  /** Sent instead when the number's 24-hour window is closed (or Meta answers 131047). */
  fallback: OutgoingMessage | null;
}

/**
 * Decides what to send: text (the seed's case), a template, or media with a caption. A text together
 * with a template sends the text inside the 24-hour window and the template outside it.
 */
export function buildNotifyMessages(
  content: NotifyContent,
  defaultLanguage: string,
  knownParameterCounts: ReadonlyMap<string, number> = new Map(),
): NotifyMessages {
  if (content.template !== undefined) checkParameterCount(content.template, knownParameterCounts);
  const template = content.template === undefined ? null : toTemplate(content.template, defaultLanguage);
  const hasMedia = content.mediaUrl !== undefined || content.mediaId !== undefined;
  if (content.mediaUrl !== undefined && content.mediaId !== undefined) {
    throw new AppError('validation_error', 'Give mediaUrl or mediaId, not both', { field: 'mediaUrl' });
  }
  if (hasMedia) {
    const kind = content.mediaType ?? (content.filename === undefined ? 'image' : 'document');
    const caption = content.caption ?? content.message;
    const message: OutgoingMessage =
      kind === 'image'
        ? { kind, ...media(content), ...(caption === undefined ? {} : { caption }) }
        : {
            kind,
            ...media(content),
            ...(caption === undefined ? {} : { caption }),
            ...(content.filename === undefined ? {} : { filename: content.filename }),
          };
    return { message, fallback: template };
  }
  if (content.message !== undefined) {
    return { message: { kind: 'text', body: content.message }, fallback: template };
  }
  if (template !== null) return { message: template, fallback: null };
  throw new AppError('validation_error', 'message is required', { field: 'message', location: 'body' });
}

/** Meta answers 132000 for a wrong count; for templates we know (WHATSAPP_TEMPLATE_PARAMS) refuse it first. */
function checkParameterCount(
  template: NonNullable<NotifyContent['template']>,
  known: ReadonlyMap<string, number>,
): void {
  const expected = known.get(template.name);
  if (expected === undefined) return;
  const given =
    template.components === undefined
      ? (template.parameters?.length ?? 0)
      : template.components
          .filter((c) => c.type === 'body')
          .reduce((sum, c) => sum + (c.parameters?.length ?? 0), 0);
  if (given !== expected) {
    throw new AppError(
      'validation_error',
      `template ${template.name} takes ${expected} body parameters, got ${given}`,
      {
        field: template.components === undefined ? 'template.parameters' : 'template.components',
      },
    );
  }
}

function media(content: NotifyContent): { mediaId: string } | { link: string } {
  return content.mediaId !== undefined ? { mediaId: content.mediaId } : { link: content.mediaUrl ?? '' };
}

function toTemplate(
  template: NonNullable<NotifyContent['template']>,
  defaultLanguage: string,
): OutgoingMessage {
  const parameters = template.parameters ?? [];
  parameters.forEach((text, index) => {
    // Meta refuses template parameters with new lines, tabs or more than four spaces in a row (132018).
    if (/[\n\t]| {5,}/.test(text)) {
      throw new AppError(
        'validation_error',
        `template.parameters[${index}] must be one line without tabs or runs of 5+ spaces`,
        {
          field: `template.parameters[${index}]`,
        },
      );
    }
  });
  const components: WireTemplateComponent[] | undefined =
    template.components ??
    (parameters.length === 0
      ? undefined
      : [{ type: 'body', parameters: parameters.map((text) => ({ type: 'text', text })) }]);
  return {
    kind: 'template',
    name: template.name,
    language: template.language ?? defaultLanguage,
    ...(components === undefined ? {} : { components }),
  };
}
