/** Delivery: where each decision goes (a destination, and how it is written there). */
import { z } from 'zod';
import { nonEmptyString } from './primitives.ts';

// ---------------------------------------------------------------------------------------------
// Destinations and their modes
//
// The only place in plugin/config that names vendors. The core should not know its adapters:
// each adapter (adapters/<vendor>) will declare the modes it delivers in, and this table will
// go. Everything below derives from it.

const MODES_BY_DESTINATION = {
  braze: ['attributes', 'campaign_trigger', 'canvas_trigger'],
  hubspot: ['contact_properties'],
  segment: ['identify'],
} as const;

type Destination = keyof typeof MODES_BY_DESTINATION;
type Mode = (typeof MODES_BY_DESTINATION)[Destination][number];

const DESTINATIONS = Object.keys(MODES_BY_DESTINATION) as [Destination, ...Destination[]];
const MODES = [...new Set(Object.values(MODES_BY_DESTINATION).flat())] as [Mode, ...Mode[]];

/** The modes' description: each destination with its modes, "<destination>: <mode> | <mode>; ...". */
const MODES_TEXT = `${Object.entries(MODES_BY_DESTINATION)
  .map(([to, modes]) => `${to}: ${modes.join(' | ')}`)
  .join('; ')}.`;

/** Delivery modes that write the decision onto the profile, where agents' names would collide. */
export const PROFILE_MODES: readonly Mode[] = ['attributes', 'contact_properties', 'identify'];

// ---------------------------------------------------------------------------------------------
// Delivery

/** The ids a triggering mode needs: each is required with its mode and refused with any other. */
const TRIGGER_IDS = [
  ['campaign_id', 'campaign_trigger'],
  ['canvas_id', 'canvas_trigger'],
] as const;

export const deliverySchema = z
  .strictObject({
    to: z.enum(DESTINATIONS).describe('Destination system.'),
    mode: z.enum(MODES).describe(MODES_TEXT),
    prefix: z
      .string()
      .regex(/^[A-Za-z0-9_]*$/, {
        error: (iss) => `must contain only letters, digits and "_", got ${JSON.stringify(iss.input)}`,
      })
      .default('nb_')
      .describe('Prefix of the attribute / property names written, e.g. nb_subject_line.'),
    campaign_id: nonEmptyString().optional().describe('API-triggered campaign id (mode campaign_trigger).'),
    canvas_id: nonEmptyString().optional().describe('API-triggered canvas id (mode canvas_trigger).'),
  })
  .superRefine((d, ctx) => {
    const modes: readonly string[] = MODES_BY_DESTINATION[d.to];
    if (!modes.includes(d.mode)) {
      ctx.addIssue({
        code: 'custom',
        path: ['mode'],
        message: `${d.to} supports ${modes.join(', ')}, got ${JSON.stringify(d.mode)}`,
        input: d.mode,
      });
    }
    for (const [key, mode] of TRIGGER_IDS) {
      if (d.mode === mode && d[key] === undefined)
        ctx.addIssue({ code: 'custom', path: [key], message: `required when mode is ${mode}`, input: undefined });
      if (d.mode !== mode && d[key] !== undefined)
        ctx.addIssue({ code: 'custom', path: [key], message: `only used when mode is ${mode}`, input: d[key] });
    }
  })
  .describe('Where decisions go.');
export type Delivery = z.output<typeof deliverySchema>;
