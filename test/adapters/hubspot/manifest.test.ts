import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decisionPropertiesOf, HUBSPOT_REQUIRED_SCOPES } from '../../../adapters/hubspot/index.ts';
import { winbackWithHubSpot } from './setup.ts';

const read = (path: string) => JSON.parse(readFileSync(`manifest/hubspot/${path}`, 'utf8'));

describe('manifest/hubspot', () => {
  it('declares the agentId input and one output field per attribute of the example agent', async () => {
    const action = read('src/app/workflow-actions/decide-hsmeta.json');
    expect(action.config.actionUrl).toMatch(/\/v1\/hubspot\/workflow-actions\/decide$/);
    expect(action.config.inputFields.map((f: { typeDefinition: { name: string } }) => f.typeDefinition.name)).toEqual([
      'agentId',
    ]);
    const outputs = action.config.outputFields
      .map((f: { typeDefinition: { name: string } }) => f.typeDefinition.name)
      .sort();
    expect(outputs).toEqual(
      decisionPropertiesOf([await winbackWithHubSpot()])
        .map((p) => p.name)
        .sort(),
    );
    expect(Object.keys(action.config.labels.en.outputFieldLabels).sort()).toEqual(outputs);
  });

  it('asks for the scopes the adapter uses and redirects to the callback route', () => {
    const app = read('src/app/app-hsmeta.json');
    expect(app.config.auth.requiredScopes).toEqual(expect.arrayContaining([...HUBSPOT_REQUIRED_SCOPES]));
    expect(app.config.auth.redirectUrls.every((u: string) => u.endsWith('/oauth/hubspot/callback'))).toBe(true);
  });
});
