import { graphFailure, type GraphFailure } from './graph-errors.js';
import { exceedsLength, isRecord } from './validate-helpers.js';

/** What content checks need to know beyond the body itself. */
export interface ContentContext {
  phoneNumberId: string;
  findMedia(id: string): { phoneNumberId: string } | undefined;
  /** When given, only templates it accepts exist (else 132001); without it any template is accepted. */
  templateExists?: (name: string, languageCode: string) => boolean;
}

const MAX_CAPTION = 1024;
const TEMPLATE_COMPONENT_TYPES = ['header', 'body', 'button', 'footer'];
const EMULATED_INTERACTIVE_TYPES = ['button', 'list', 'cta_url'];

export function validateTemplate(template: unknown, context: ContentContext): GraphFailure | null {
  if (!isRecord(template)) return graphFailure(100, 'Param template must be an object.');
  const { name, language, components } = template;
  if (name === undefined || name === '') {
    return graphFailure(131008, "Parameter template['name'] is required.");
  }
  if (typeof name !== 'string') return graphFailure(100, "Param template['name'] must be a string.");
  if (!isRecord(language) || language.code === undefined || language.code === '') {
    return graphFailure(131008, "Parameter template['language']['code'] is required.");
  }
  if (typeof language.code !== 'string') {
    return graphFailure(100, "Param template['language']['code'] must be a string.");
  }
  if (language.policy !== undefined && language.policy !== 'deterministic') {
    return graphFailure(100, "Param template['language']['policy'] must be \"deterministic\".");
  }
  if (components !== undefined) {
    const componentFailure = checkTemplateComponents(components);
    if (componentFailure) return componentFailure;
  }
  if (context.templateExists && !context.templateExists(name, language.code)) {
    return graphFailure(132001, `template name (${name}) does not exist in ${language.code}`);
  }
  return null;
}

function checkTemplateComponents(components: unknown): GraphFailure | null {
  if (!Array.isArray(components)) return graphFailure(100, "Param template['components'] must be an array.");
  for (const [index, component] of components.entries()) {
    const path = `template['components'][${index}]`;
    if (!isRecord(component) || typeof component.type !== 'string') {
      return graphFailure(100, `Param ${path}['type'] is required.`);
    }
    if (!TEMPLATE_COMPONENT_TYPES.includes(component.type)) {
      return graphFailure(
        100,
        `Param ${path}['type'] must be one of {${TEMPLATE_COMPONENT_TYPES.join(', ')}}.`,
      );
    }
    const { parameters } = component;
    if (parameters === undefined) continue;
    if (!Array.isArray(parameters)) return graphFailure(100, `Param ${path}['parameters'] must be an array.`);
    const badParameter = parameters.findIndex(
      (parameter) => !isRecord(parameter) || typeof parameter.type !== 'string',
    );
    if (badParameter >= 0) {
      return graphFailure(100, `Param ${path}['parameters'][${badParameter}]['type'] is required.`);
    }
  }
  return null;
}

export function validateMedia(
  type: 'image' | 'document',
  media: unknown,
  context: ContentContext,
): GraphFailure | null {
  if (!isRecord(media)) return graphFailure(100, `Param ${type} must be an object.`);
  const { id, link, caption, filename } = media;
  if ((id === undefined) === (link === undefined)) {
    return graphFailure(100, `Param ${type} must have exactly one of id or link.`);
  }
  if (id !== undefined) {
    if (typeof id !== 'string') return graphFailure(100, `Param ${type}['id'] must be a string.`);
    const stored = context.findMedia(id);
    if (!stored) {
      return graphFailure(131053, `Media id ${id} does not exist (never uploaded, deleted or expired).`);
    }
    if (stored.phoneNumberId !== context.phoneNumberId) {
      return graphFailure(
        131053,
        `Media id ${id} was uploaded by another phone number and can only be sent from it.`,
      );
    }
  } else if (typeof link !== 'string' || !isHttpUrl(link)) {
    return graphFailure(100, `Param ${type}['link'] must be an http(s) URL.`);
  }
  if (caption !== undefined && (typeof caption !== 'string' || exceedsLength(caption, MAX_CAPTION))) {
    return graphFailure(
      100,
      `Param ${type}['caption'] must be a string of at most ${MAX_CAPTION} characters.`,
    );
  }
  if (filename !== undefined && typeof filename !== 'string') {
    return graphFailure(100, `Param ${type}['filename'] must be a string.`);
  }
  return null;
}

function isHttpUrl(link: string): boolean {
  try {
    const { protocol } = new URL(link);
    return protocol === 'https:' || protocol === 'http:';
  } catch {
    return false;
  }
}

/** Limits from shared/whatsapp-cloud-api.md §1.3 and §3.7; Meta reports them as 131009. */
export function validateInteractive(interactive: unknown): GraphFailure | null {
  if (!isRecord(interactive)) return graphFailure(100, 'Param interactive must be an object.');
  const { type, body, header, footer, action } = interactive;
  if (type === undefined) return graphFailure(131008, "Parameter interactive['type'] is required.");
  if (typeof type !== 'string' || !EMULATED_INTERACTIVE_TYPES.includes(type)) {
    return graphFailure(131051, `Interactive type ${JSON.stringify(type)} is not supported by the sandbox.`);
  }
  if (!isRecord(body) || body.text === undefined) {
    return graphFailure(131008, "Parameter interactive['body']['text'] is required.");
  }
  const bodyFailure = lengthFailure(body.text, 1, 1024, "interactive['body']['text']");
  if (bodyFailure) return bodyFailure;
  if (header !== undefined) {
    if (!isRecord(header) || typeof header.type !== 'string') {
      return graphFailure(100, "Param interactive['header']['type'] is required.");
    }
    if (header.type === 'text') {
      const headerFailure = lengthFailure(header.text, 1, 60, "interactive['header']['text']");
      if (headerFailure) return headerFailure;
    }
  }
  if (footer !== undefined) {
    const footerFailure = lengthFailure(
      isRecord(footer) ? footer.text : undefined,
      1,
      60,
      "interactive['footer']['text']",
    );
    if (footerFailure) return footerFailure;
  }
  if (!isRecord(action)) return graphFailure(131008, "Parameter interactive['action'] is required.");
  return type === 'button' ? checkReplyButtons(action.buttons) : null;
}

function checkReplyButtons(buttons: unknown): GraphFailure | null {
  if (buttons === undefined) {
    return graphFailure(131008, "Parameter interactive['action']['buttons'] is required.");
  }
  if (!Array.isArray(buttons) || buttons.length < 1 || buttons.length > 3) {
    return graphFailure(131009, 'Invalid buttons count. Min allowed buttons: 1, Max allowed buttons: 3');
  }
  const titles = new Set<string>();
  const ids = new Set<string>();
  for (const [index, button] of buttons.entries()) {
    const path = `interactive['action']['buttons'][${index}]`;
    if (!isRecord(button) || button.type !== 'reply') {
      return graphFailure(100, `Param ${path}['type'] must be reply.`);
    }
    const { reply } = button;
    if (!isRecord(reply) || reply.id === undefined || reply.title === undefined) {
      return graphFailure(131008, `Parameter ${path}['reply'] needs an id and a title.`);
    }
    if (typeof reply.title !== 'string' || reply.title.length === 0 || exceedsLength(reply.title, 20)) {
      return graphFailure(131009, 'Button title length invalid. Min length: 1, Max length: 20');
    }
    if (typeof reply.id !== 'string' || reply.id.length === 0 || exceedsLength(reply.id, 256)) {
      return graphFailure(131009, 'Button id length invalid. Min length: 1, Max length: 256');
    }
    if (reply.id.trim() !== reply.id) {
      return graphFailure(131009, 'Button id cannot have leading or trailing whitespace.');
    }
    if (titles.has(reply.title)) return graphFailure(131009, 'Button title must be unique.');
    if (ids.has(reply.id)) return graphFailure(131009, 'Button id must be unique.');
    titles.add(reply.title);
    ids.add(reply.id);
  }
  return null;
}

function lengthFailure(value: unknown, min: number, max: number, path: string): GraphFailure | null {
  if (typeof value !== 'string') return graphFailure(131008, `Parameter ${path} is required.`);
  if (value.length < min || exceedsLength(value, max)) {
    return graphFailure(131009, `Param ${path} length invalid. Min length: ${min}, Max length: ${max}`);
  }
  return null;
}
