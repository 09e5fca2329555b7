import { cp, readFile, rename, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import nock from 'nock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decisionPropertiesOf, hubspotFromEnv } from '../../../adapters/hubspot/index.ts';
import { FakeHubSpot } from '../../fakes/hubspot.ts';
import { startTestServer, tempDir } from '../../server/helpers.ts';
import { hubspotProjectProblems } from './project-check.ts';
import { authorizeOnHubSpot, CLIENT_SECRET, startInstall, winbackWithHubSpot } from './setup.ts';

const read = (path: string) => JSON.parse(readFileSync(`manifest/hubspot/${path}`, 'utf8'));
const REDIRECT = 'https://nextbest.example.com/oauth/hubspot/callback';

beforeAll(() => {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
});
afterAll(() => nock.enableNetConnect());

describe('manifest/hubspot', () => {
  it('passes the checks of HubSpot’s project parsing library that run without an account', async () => {
    expect(await hubspotProjectProblems('manifest/hubspot')).toEqual([]);
  });

  it('is refused by those checks when a component is misplaced or carries an unknown top-level field', async () => {
    const dir = await tempDir();
    try {
      await cp('manifest/hubspot', dir.path, { recursive: true });
      const action = join(dir.path, 'src/app/workflow-actions/decide-hsmeta.json');
      await writeFile(action, JSON.stringify({ ...JSON.parse(await readFile(action, 'utf8')), labels: {} }));
      await rename(join(dir.path, 'src/app/webhooks'), join(dir.path, 'src/app/settings'));
      const problems = await hubspotProjectProblems(dir.path);
      expect(problems.some((p) => p.includes('decide-hsmeta.json') && p.includes('labels'))).toBe(true);
      expect(problems.some((p) => p.startsWith('app/settings/webhooks-hsmeta.json'))).toBe(true);
    } finally {
      await dir.remove();
    }
  });

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

  it('redirects to the callback route', () => {
    const app = read('src/app/app-hsmeta.json');
    expect(app.config.auth.redirectUrls.every((u: string) => u.endsWith('/oauth/hubspot/callback'))).toBe(true);
  });

  it('subscribes to privacy deletions under hubEvents, where HubSpot’s webhook configuration reference puts them', () => {
    const { subscriptions } = read('src/app/webhooks/webhooks-hsmeta.json').config;
    expect(subscriptions.hubEvents).toEqual([{ subscriptionType: 'contact.privacyDeletion', active: true }]);
    const elsewhere = [...(subscriptions.legacyCrmObjects ?? []), ...(subscriptions.crmObjects ?? [])];
    expect(elsewhere.map((s: { subscriptionType: string }) => s.subscriptionType)).not.toContain(
      'contact.privacyDeletion',
    );
  });
});

describe('the install URL against the manifest', () => {
  const installUrl = async (fake: FakeHubSpot): Promise<URL> => {
    const adapter = hubspotFromEnv(
      {
        HUBSPOT_CLIENT_ID: 'app-client',
        HUBSPOT_CLIENT_SECRET: CLIENT_SECRET,
        HUBSPOT_REDIRECT_URI: REDIRECT,
        HUBSPOT_TOKEN_KEY: Buffer.alloc(32, 7).toString('base64'),
        HUBSPOT_BASE_PATH: fake.url,
      },
      { tokenDbPath: ':memory:' },
    );
    const server = await startTestServer({ extensions: [adapter.extension!] });
    try {
      return (await startInstall(server)).location!;
    } finally {
      await server.close();
      await adapter.close();
    }
  };
  const scopesOf = (url: URL, param: string) => (url.searchParams.get(param) ?? '').split(' ').filter(Boolean);

  it('asks for exactly the required scopes of the app, and exactly its optional scopes', async () => {
    const fake = await new FakeHubSpot({ clientId: 'app-client', redirectUri: REDIRECT }).start();
    try {
      const url = await installUrl(fake);
      const { auth } = read('src/app/app-hsmeta.json').config;
      expect(scopesOf(url, 'scope').sort()).toEqual([...new Set<string>(auth.requiredScopes)].sort());
      expect(scopesOf(url, 'optional_scope').sort()).toEqual([...new Set<string>(auth.optionalScopes)].sort());
      const granted = await authorizeOnHubSpot(fake, url);
      expect(granted.status).toBe(302);
    } finally {
      await fake.close();
    }
  });

  it('is refused by HubSpot when its scope parameter lacks a required scope of the app', async () => {
    const fake = await new FakeHubSpot({ clientId: 'app-client', redirectUri: REDIRECT }).start();
    try {
      const url = await installUrl(fake);
      url.searchParams.set(
        'scope',
        scopesOf(url, 'scope')
          .filter((s) => s !== 'automation')
          .join(' '),
      );
      const refused = await authorizeOnHubSpot(fake, url);
      expect(refused.status).toBe(400);
      expect(refused.page).toContain('the provided scopes are insufficient');
      expect(refused.code).toBeUndefined();
    } finally {
      await fake.close();
    }
  });
});
