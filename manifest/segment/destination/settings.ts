import type { GlobalSetting } from '@segment/actions-core';

/** What an admin fills in once per destination instance (Segment stores them encrypted). */
export interface Settings {
  /** Base URL of the nextbest service. */
  endpoint: string;
  /** A workspace API key of scope `decide`. */
  apiKey: string;
}

export const settingsFields: Record<keyof Settings, GlobalSetting> = {
  endpoint: {
    label: 'nextbest URL',
    description:
      'Base URL of your nextbest service, reachable from the internet over HTTPS, e.g. https://nextbest.example.com (no path; Segment refuses private addresses).',
    type: 'string',
    format: 'uri',
    required: true,
  },
  apiKey: {
    label: 'API key',
    description:
      'A workspace API key of scope "decide" (create one with POST /v1/keys {"scope": "decide"} and an admin key). It may ask for decisions and send events, nothing else.',
    type: 'password',
    required: true,
  },
};

/** `endpoint` + `path`, without a doubled slash. */
export function nextbestUrl(settings: Settings, path: string): string {
  return `${settings.endpoint.replace(/\/+$/, '')}${path}`;
}
