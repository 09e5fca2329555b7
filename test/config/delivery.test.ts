import { describe, expect, it } from 'vitest';
import { errorsOf, makeWorkspace, type Json } from './contract.ts';

describe('delivery', () => {
  it.each<[string, (agent: Json) => void, string[]]>([
    [
      'a delivery mode the destination lacks',
      (a) => {
        a.delivery[0] = { to: 'hubspot', mode: 'attributes' };
      },
      ['agents[0].delivery[0].mode: hubspot supports contact_properties, got "attributes"'],
    ],
    [
      'a campaign trigger without campaign id',
      (a) => {
        delete a.delivery[1].campaign_id;
      },
      ['agents[0].delivery[1].campaign_id: required when mode is campaign_trigger'],
    ],
    [
      'a canvas id on another mode',
      (a) => {
        a.delivery[0].canvas_id = 'c1';
      },
      ['agents[0].delivery[0].canvas_id: only used when mode is canvas_trigger'],
    ],
  ])('rejects %s', (_name, change, expected) => {
    expect(errorsOf(makeWorkspace(change))).toEqual(expected);
  });
});
