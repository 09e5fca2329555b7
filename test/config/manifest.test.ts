import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { agentConfigJsonSchemaText, SCHEMA_PATH } from '../../manifest/generate-schema.ts';
import type { Json } from './contract.ts';

describe('manifest/agent-config.schema.json', () => {
  it('is what manifest/generate-schema.ts generates (run it after changing the schema)', async () => {
    expect(await readFile(SCHEMA_PATH, 'utf8')).toBe(agentConfigJsonSchemaText());
  });

  it('describes every property for users', () => {
    const undescribed: string[] = [];
    const walk = (node: unknown, path: string): void => {
      if (Array.isArray(node)) node.forEach((n, i) => walk(n, `${path}[${i}]`));
      if (!node || typeof node !== 'object') return;
      const properties = (node as Json).properties as Json | undefined;
      for (const [key, value] of Object.entries(properties ?? {})) {
        if (!('description' in value) && !('$ref' in value)) undescribed.push(`${path}.${key}`);
      }
      for (const [key, value] of Object.entries(node)) walk(value, `${path}/${key}`);
    };
    walk(JSON.parse(agentConfigJsonSchemaText()), '');
    expect(undescribed).toEqual([]);
  });
});
