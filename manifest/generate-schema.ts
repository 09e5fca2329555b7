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
import { DESTINATIONS } from '../adapters/destinations.ts';
import { type Destination, workspaceConfigSchema } from '../plugin/config/index.ts';

export const SCHEMA_PATH = fileURLToPath(new URL('./agent-config.schema.json', import.meta.url));

/** The JSON Schema document for config files (draft 2020-12). */
export function agentConfigJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(workspaceConfigSchema, { io: 'input', target: 'draft-2020-12' });
  const agent = (schema.properties as Record<string, { items: { properties: Record<string, { items: object }> } }>)
    .agents!.items;
  agent.properties.delivery!.items = deliveryEntrySchema(agent.properties.delivery!.items, DESTINATIONS);
  return { ...schema, title: 'nextbest workspace config' };
}

/**
 * A delivery entry as editors should see it: one exact shape per destination and mode that the
 * adapters declare (the zod schema checks the same at parse time, against the declared list).
 */
function deliveryEntrySchema(entry: object, destinations: readonly Destination[]): object {
  const base = entry as { properties: Record<string, { description?: string }>; description: string };
  const shapes = destinations.flatMap(({ to, modes }) =>
    modes.map(({ name, requires }) => ({
      type: 'object',
      properties: {
        to: { const: to, description: base.properties.to!.description },
        mode: { const: name, description: base.properties.mode!.description },
        prefix: base.properties.prefix,
        ...(requires && { [requires.key]: { type: 'string', minLength: 1, description: requires.description } }),
      },
      required: ['to', 'mode', ...(requires ? [requires.key] : [])],
      additionalProperties: false,
    })),
  );
  return { description: base.description, anyOf: shapes };
}

/** The file's exact text: 2-space JSON with a trailing newline. */
export function agentConfigJsonSchemaText(): string {
  return `${JSON.stringify(agentConfigJsonSchema(), null, 2)}\n`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(SCHEMA_PATH, agentConfigJsonSchemaText());
  console.log(`wrote ${SCHEMA_PATH}`);
}
