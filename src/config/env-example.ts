import { CONFIG_VARIABLES, type VariableSpec } from './config-schema.js';

/** `.env.example`, rendered from the schema (a test keeps the checked-in file identical). */
export function renderEnvExample(): string {
  const lines = [
    '# KeyhomeKey Dispatch configuration. Copy to .env.local (read first) or .env; the real environment wins.',
    '# Generated from src/config/config-schema.ts by `npm run keyhomekey -- env-example`.',
    '# With nothing set, the service runs on SQLite under ./data with the built-in WhatsApp sandbox.',
  ];
  let group = '';
  for (const [name, spec] of Object.entries(CONFIG_VARIABLES) as [string, VariableSpec][]) {
    if (spec.group !== group) {
      group = spec.group;
      lines.push('', `## ${group}`);
    }
    lines.push(`# ${spec.description}${spec.values === undefined ? '' : ` (${spec.values.join(' | ')})`}`);
    lines.push(spec.default === undefined ? `# ${name}=` : `# ${name}=${spec.default}`);
  }
  return `${lines.join('\n')}\n`;
}
