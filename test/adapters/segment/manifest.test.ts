import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { DESTINATION_PATH, segmentDestinationManifestText } from '../../../manifest/segment/generate.ts';

describe('manifest/segment/destination.json', () => {
  it('is what manifest/segment/generate.ts produces from the adapter schemas (regenerate it when this fails)', async () => {
    expect(await readFile(DESTINATION_PATH, 'utf8')).toBe(segmentDestinationManifestText());
  });

  it('lists the settings an admin fills in, each described', async () => {
    const manifest = JSON.parse(await readFile(DESTINATION_PATH, 'utf8'));
    const properties = manifest.settings.properties as Record<string, { description?: string }>;
    expect(Object.keys(properties)).toEqual(
      expect.arrayContaining(['sharedSecret', 'writeKey', 'profileToken', 'spaceId', 'prefix']),
    );
    for (const [name, p] of Object.entries(properties)) expect(p.description, name).toMatch(/\w/);
  });
});
