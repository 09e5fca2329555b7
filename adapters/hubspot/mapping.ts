import type { AttributeValue, Profile } from '../../plugin/agent/index.ts';
import type { HubSpotContact } from './client.ts';
import { TIMEZONE_PROPERTY } from './constants.ts';

/**
 * HubSpot property values are strings. Booleans are "true"/"false", numbers their decimal form,
 * null clears the property (""), datetimes epoch milliseconds.
 */
export function toPropertyValue(value: AttributeValue): string {
  if (value === null) return '';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  return String(value);
}

/** An ISO-8601 time as HubSpot datetime properties take it (epoch ms), or "" when absent. */
export function toDatetimeValue(value: AttributeValue): string {
  if (value === null || value === '') return '';
  const t = typeof value === 'number' ? value : Date.parse(String(value));
  return Number.isFinite(t) ? String(t) : '';
}

/**
 * A trait from a property string: "true"/"false" become booleans (conditions compare strictly),
 * a string that is exactly a number's decimal form becomes that number ("007" stays a string),
 * everything else stays as HubSpot sent it. Empty and null values are left out.
 */
export function traitValue(raw: string | null | undefined): unknown {
  if (raw === null || raw === undefined || raw === '') return undefined;
  if (raw === 'true') return true;
  if (raw === 'false') return false;
  const n = Number(raw);
  if (Number.isFinite(n) && String(n) === raw) return n;
  return raw;
}

/** A contact as a Profile: userId = contact id; traits = the requested properties; timezone from hs_timezone. */
export function profileOf(contact: HubSpotContact, properties: readonly string[]): Profile {
  const traits: Record<string, unknown> = {};
  for (const name of properties) {
    const v = traitValue(contact.properties[name]);
    if (v !== undefined) traits[name] = v;
  }
  const tz = timeZoneOf(contact.properties[TIMEZONE_PROPERTY]);
  return { userId: contact.id, traits, ...(tz ? { timezone: tz } : {}) };
}

/**
 * The IANA zone of an `hs_timezone` value. HubSpot stores it as an option value such as
 * `europe_slash_paris` or `america_slash_new_york`; plain IANA names are read too. Undefined when
 * it names no zone this runtime knows.
 */
export function timeZoneOf(raw: string | null | undefined): string | undefined {
  if (!raw) return undefined;
  const candidate = raw.replace(/_slash_/g, '/');
  try {
    return new Intl.DateTimeFormat('en', { timeZone: candidate }).resolvedOptions().timeZone;
  } catch {
    return undefined;
  }
}
