/**
 * Generates `manifest/agent-config.schema.json`, the JSON Schema of the workspace config file,
 * from the zod schema in plugin/config/ (its input side: what admins write).
 *
 *   node --import tsx manifest/generate-schema.ts
 *
 * test/config/manifest.test.ts fails when the committed file differs from what this produces.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { workspaceConfigSchema } from '../plugin/config/index.ts';

export const SCHEMA_PATH = fileURLToPath(new URL('./agent-config.schema.json', import.meta.url));

/** The JSON Schema document for config files (draft 2020-12). */
export function agentConfigJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(workspaceConfigSchema, { io: 'input', target: 'draft-2020-12' });
  return { ...schema, title: 'nextbest workspace config' };
}

/** The file's exact text: 2-space JSON with a trailing newline. */
export function agentConfigJsonSchemaText(): string {
  return `${JSON.stringify(agentConfigJsonSchema(), null, 2)}\n`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(SCHEMA_PATH, agentConfigJsonSchemaText());
  console.log(`wrote ${SCHEMA_PATH}`);
}
