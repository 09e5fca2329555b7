/**
 * Delivery: where each decision goes (a destination, and how it is written there).
 *
 * The config names no vendor. Each adapter declares the destination it serves and its modes
 * (`Destination`); the composition root declares them here (`declareDestinations`) before any
 * config is parsed, and a delivery entry is checked against them at parse time.
 */
import { z } from 'zod';
import { nonEmptyString } from './primitives.ts';

/** One mode of a destination, as its adapter declares it. */
export interface DeliveryMode {
  name: string;
  /** Writes the decision onto the destination's profiles, where agents' names would collide. */
  writesProfile: boolean;
  /** The key of the id this mode needs in the entry (a campaign to trigger), with its description. */
  requires?: { key: string; description: string };
}

/** A destination and the modes it delivers in: `{to: 'braze', modes: [attributes, …]}`. */
export interface Destination {
  to: string;
  modes: readonly DeliveryMode[];
}

let destinations: readonly Destination[] = [];

/** Declares the destinations delivery entries may name (the adapters this build has). */
export function declareDestinations(declared: readonly Destination[]): void {
  destinations = declared;
}

/** The destinations declared so far. */
export function declaredDestinations(): readonly Destination[] {
  return destinations;
}

/** Whether `mode` of `to` writes onto profiles (false for an undeclared one). */
export function writesProfile(to: string, mode: string): boolean {
  return destinationNamed(to)?.modes.find((m) => m.name === mode)?.writesProfile ?? false;
}

function destinationNamed(to: string): Destination | undefined {
  return destinations.find((d) => d.to === to);
}

const identifier = (what: string): z.ZodString =>
  z.string().regex(/^[a-z][a-z0-9_]*$/, { error: `must be a ${what} name (lower-case letters, digits and "_")` });

const BASE_KEYS = new Set(['to', 'mode', 'prefix']);

type Ctx = z.core.$RefinementCtx<Record<string, string>>;

function issue(ctx: Ctx, key: string, message: string, input: unknown): void {
  ctx.addIssue({ code: 'custom', path: [key], message, input });
}

/** The entry's destination and mode are declared, and it carries exactly the ids its mode needs. */
function checkEntry(d: Record<string, string>, ctx: Ctx): void {
  const destination = destinationNamed(d.to!);
  if (!destination) {
    const known = destinations.map((x) => x.to).join(', ') || '(none)';
    return issue(ctx, 'to', `unknown destination ${JSON.stringify(d.to)}; known: ${known}`, d.to);
  }
  const mode = destination.modes.find((m) => m.name === d.mode);
  if (!mode) {
    const names = destination.modes.map((m) => m.name).join(', ');
    return issue(ctx, 'mode', `${d.to} supports ${names}, got ${JSON.stringify(d.mode)}`, d.mode);
  }
  if (mode.requires && d[mode.requires.key] === undefined)
    issue(ctx, mode.requires.key, `required when mode is ${mode.name}`, undefined);
  for (const key of Object.keys(d).filter((k) => !BASE_KEYS.has(k) && k !== mode.requires?.key)) {
    const owner = destination.modes.find((m) => m.requires?.key === key);
    issue(ctx, key, owner ? `only used when mode is ${owner.name}` : 'unknown key', d[key]);
  }
}

export const deliverySchema = z
  .object({
    to: identifier('destination').describe('Destination system: one an adapter of this build declares.'),
    mode: identifier('mode').describe('How it is written there; each destination declares its modes.'),
    prefix: z
      .string()
      .regex(/^[A-Za-z0-9_]*$/, {
        error: (iss) => `must contain only letters, digits and "_", got ${JSON.stringify(iss.input)}`,
      })
      .default('nb_')
      .describe('Prefix of the attribute / property names written, e.g. nb_subject_line.'),
  })
  .catchall(nonEmptyString().describe('An id the mode needs, e.g. campaign_id of a campaign to trigger.'))
  .superRefine(checkEntry)
  .describe('Where decisions go.');
export type Delivery = z.output<typeof deliverySchema>;
