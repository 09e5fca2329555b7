import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { z } from 'zod';
import type { Profile, ProfileSource } from '../agent/index.ts';

/** One audience member per line of an NDJSON file. */
export const profileLineSchema = z.strictObject({
  userId: z.string().min(1, 'must not be empty').max(256),
  traits: z.record(z.string(), z.unknown()).default({}),
  timezone: z.string().max(64).optional(),
  consent: z.record(z.string(), z.boolean()).optional(),
});

/**
 * Audiences read from NDJSON files (`file:PATH`): one profile per line,
 * `{"userId": "…", "traits": {…}, "timezone": "Europe/Paris", "consent": {"sms": false}}`.
 * `check` reads the whole file first and names every bad line, so a run never starts on a file
 * it would stop halfway through.
 */
export class FileAudience implements ProfileSource {
  readonly metadata = { name: 'file' };

  static isRef(ref: string): boolean {
    return ref.startsWith('file:');
  }

  private static path(ref: string): string {
    if (!FileAudience.isRef(ref)) throw new Error(`not a file audience: ${JSON.stringify(ref)} (expected file:PATH)`);
    return ref.slice('file:'.length);
  }

  async getProfile(): Promise<Profile | undefined> {
    return undefined;
  }

  /** Counts the members and lists the bad lines (at most `maxErrors`), as `PATH:LINE: field: problem`. */
  async check(ref: string, maxErrors = 20): Promise<{ members: number; errors: string[] }> {
    const path = FileAudience.path(ref);
    let members = 0;
    const errors: string[] = [];
    let line = 0;
    for await (const text of lines(path)) {
      line += 1;
      if (text.trim() === '') continue;
      const problem = parseLine(text);
      if (typeof problem === 'string') {
        if (errors.length < maxErrors) errors.push(`${path}:${line}: ${problem}`);
      } else members += 1;
    }
    return { members, errors };
  }

  async *audience(ref: string): AsyncIterable<Profile> {
    const path = FileAudience.path(ref);
    let line = 0;
    for await (const text of lines(path)) {
      line += 1;
      if (text.trim() === '') continue;
      const parsed = parseLine(text);
      if (typeof parsed === 'string') throw new Error(`${path}:${line}: ${parsed}`);
      yield parsed;
    }
  }
}

function lines(path: string): AsyncIterable<string> {
  return createInterface({ input: createReadStream(path, { encoding: 'utf8' }), crlfDelay: Infinity });
}

/** The profile on a line, or what is wrong with it. */
function parseLine(text: string): Profile | string {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return `not JSON: ${(err as Error).message}`;
  }
  const r = profileLineSchema.safeParse(json);
  if (!r.success) return r.error.issues.map((i) => `${i.path.join('.') || '(line)'}: ${i.message}`).join('; ');
  const { userId, traits, timezone, consent } = r.data;
  return { userId, traits, ...(timezone ? { timezone } : {}), ...(consent ? { consent } : {}) };
}
