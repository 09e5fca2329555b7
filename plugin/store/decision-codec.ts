/**
 * The compact encoding of a decision's body (choices, features, send time and the rare rest), as
 * the SQLite store keeps it. A decision body as JSON costs about 480 bytes, most of it the dense
 * feature vector (75 numbers for the example agent, 7 of them non-zero) and the dimension and arm
 * names repeated on every row; this encoding costs about 70.
 *
 * Layout (format 1): the format byte; the choices as (dimension label, arm label, float64
 * probability); the feature vector as its length, the indexes of its 1s and its other non-zero
 * entries as (index, float64); the send time as epoch ms; then whatever else the body carries
 * (suppression, explanation, request id) as JSON. Labels are small integers from the store's
 * dictionary (see `Labels`). Every number round-trips exactly. A body of another shape is kept as
 * JSON (format 0), so the store accepts any body. Format 2 is format 1 with, after each choice's
 * probability, one byte saying whether the policy chose the arm it estimates best (and, when it
 * explored, that arm's probability as a float64): one byte per dimension more on an exploiting
 * decision, nine on an exploring one. Bodies without that information keep format 1.
 */

/** The store's dictionary of names (workspaces, agents, dimensions, arms) to small integers. */
export interface Labels {
  id(text: string): number;
  text(id: number): string;
}

interface Choice {
  arm: string;
  probability: number;
  /** Per dimension: whether the policy chose the arm it estimates best, and that arm's probability. */
  reason?: 'exploit' | 'explore';
  best?: number;
}

const FORMAT_JSON = 0;
const FORMAT_COMPACT = 1;
/** Format 1 with one byte more per choice: 0 no `best`; 1 exploit (best = probability); 2 explore, float64 best follows. */
const FORMAT_COMPACT_BEST = 2;

class Writer {
  private buf = Buffer.allocUnsafe(256);
  private at = 0;

  private room(n: number): void {
    if (this.at + n <= this.buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.at + n));
    this.buf.copy(bigger, 0, 0, this.at);
    this.buf = bigger;
  }

  byte(b: number): void {
    this.room(1);
    this.buf[this.at++] = b;
  }

  /** An unsigned integer below 2^53 in 7-bit groups. */
  varint(n: number): void {
    while (n >= 0x80) {
      this.byte((n % 0x80) | 0x80);
      n = Math.floor(n / 0x80);
    }
    this.byte(n);
  }

  float(x: number): void {
    this.room(8);
    this.buf.writeDoubleLE(x, this.at);
    this.at += 8;
  }

  text(s: string): void {
    const bytes = Buffer.from(s, 'utf8');
    this.varint(bytes.length);
    this.room(bytes.length);
    bytes.copy(this.buf, this.at);
    this.at += bytes.length;
  }

  done(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.at));
  }
}

class Reader {
  private at = 0;
  constructor(private readonly buf: Uint8Array) {}

  byte(): number {
    return this.buf[this.at++]!;
  }

  varint(): number {
    let n = 0;
    let scale = 1;
    for (;;) {
      const b = this.byte();
      n += (b & 0x7f) * scale;
      if (b < 0x80) return n;
      scale *= 0x80;
    }
  }

  float(): number {
    const view = new DataView(this.buf.buffer, this.buf.byteOffset + this.at, 8);
    this.at += 8;
    return view.getFloat64(0, true);
  }

  text(): string {
    const length = this.varint();
    const s = Buffer.from(this.buf.buffer, this.buf.byteOffset + this.at, length).toString('utf8');
    this.at += length;
    return s;
  }
}

/** Encodes a decision body; `requestId` travels with it (the row keeps only its hash). */
export function encodeBody(body: unknown, requestId: string | null, labels: Labels): Buffer {
  const w = new Writer();
  if (!isDecisionBody(body)) {
    w.byte(FORMAT_JSON);
    w.text(JSON.stringify({ body, requestId }));
    return w.done();
  }
  const { choices, features, sendAt, ...rest } = body;
  const withBest = Object.values(choices).some((c) => c.best !== undefined);
  w.byte(withBest ? FORMAT_COMPACT_BEST : FORMAT_COMPACT);
  writeChoices(w, choices, labels, withBest);
  writeFeatures(w, features);
  const sendAtMs = sendAt === undefined ? undefined : isoMillis(sendAt);
  if (sendAt === undefined) w.byte(0);
  else if (sendAtMs !== undefined) {
    w.byte(1);
    w.float(sendAtMs);
  } else {
    w.byte(2);
    w.text(sendAt);
  }
  const extra: Record<string, unknown> = { ...rest };
  if (requestId !== null) extra.requestId = requestId;
  w.text(Object.keys(extra).length === 0 ? '' : JSON.stringify(extra));
  return w.done();
}

/** Decodes what `encodeBody` wrote. */
export function decodeBody(bytes: Uint8Array, labels: Labels): { body: unknown; requestId: string | null } {
  const r = new Reader(bytes);
  const format = r.byte();
  if (format === FORMAT_JSON) {
    const { body, requestId } = JSON.parse(r.text()) as { body: unknown; requestId: string | null };
    return { body, requestId };
  }
  const choices = readChoices(r, labels, format === FORMAT_COMPACT_BEST);
  const features = readFeatures(r);
  const sendAtKind = r.byte();
  const sendAt = sendAtKind === 1 ? new Date(r.float()).toISOString() : sendAtKind === 2 ? r.text() : undefined;
  const extraText = r.text();
  const { requestId = null, ...rest } = extraText === '' ? {} : (JSON.parse(extraText) as Record<string, unknown>);
  const body: Record<string, unknown> = { choices, features };
  if (sendAt !== undefined) body.sendAt = sendAt;
  return { body: { ...body, ...rest }, requestId: requestId as string | null };
}

/** The (dimension, arm) pairs of an encoded body, without decoding the rest (for the report aggregates). */
export function choicesOfBody(bytes: Uint8Array, labels: Labels): [string, string][] {
  const r = new Reader(bytes);
  const format = r.byte();
  if (format === FORMAT_JSON) {
    const { body } = JSON.parse(r.text()) as { body: { choices?: unknown } };
    return choicePairs(body?.choices);
  }
  return Object.entries(readChoices(r, labels, format === FORMAT_COMPACT_BEST)).map(([dimension, c]) => [
    dimension,
    c.arm,
  ]);
}

/**
 * Per dimension of a body that logged it: the probability of the chosen arm and of the arm the
 * policy estimated best (for the report's exploration figures).
 */
export function explorationOfChoices(choices: unknown): { dimension: string; probability: number; best: number }[] {
  if (typeof choices !== 'object' || choices === null) return [];
  return Object.entries(choices as Record<string, unknown>).flatMap(([dimension, c]) => {
    const { probability, best } = (c ?? {}) as Partial<Choice>;
    return typeof probability === 'number' && typeof best === 'number' ? [{ dimension, probability, best }] : [];
  });
}

/** The (dimension, arm) pairs of a body of any shape; none when it has no well-formed choices. */
export function choicePairs(choices: unknown): [string, string][] {
  if (typeof choices !== 'object' || choices === null) return [];
  return Object.entries(choices as Record<string, unknown>).flatMap(([dimension, c]) =>
    typeof c === 'object' && c !== null && typeof (c as Choice).arm === 'string'
      ? [[dimension, (c as Choice).arm] as [string, string]]
      : [],
  );
}

function writeChoices(w: Writer, choices: Record<string, Choice>, labels: Labels, withBest: boolean): void {
  const entries = Object.entries(choices);
  w.varint(entries.length);
  for (const [dimension, c] of entries) {
    w.varint(labels.id(dimension));
    w.varint(labels.id(c.arm));
    w.float(c.probability);
    if (!withBest) continue;
    if (c.best === undefined) w.byte(0);
    else if (c.reason === 'exploit') w.byte(1);
    else {
      w.byte(2);
      w.float(c.best);
    }
  }
}

function readChoices(r: Reader, labels: Labels, withBest: boolean): Record<string, Choice> {
  const choices: Record<string, Choice> = {};
  for (let n = r.varint(); n > 0; n--) {
    const dimension = labels.text(r.varint());
    const arm = labels.text(r.varint());
    const probability = r.float();
    const kind = withBest ? r.byte() : 0;
    const value: Choice =
      kind === 0
        ? { arm, probability }
        : kind === 1
          ? { arm, probability, reason: 'exploit', best: probability }
          : { arm, probability, reason: 'explore', best: r.float() };
    // defineProperty: a dimension named "__proto__" stays a key, as in the JSON it came from
    Object.defineProperty(choices, dimension, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return choices;
}

function writeFeatures(w: Writer, features: number[]): void {
  w.varint(features.length);
  const ones: number[] = [];
  const others: number[] = [];
  for (let i = 0; i < features.length; i++) {
    const x = features[i]!;
    if (x === 1) ones.push(i);
    else if (x !== 0 || Object.is(x, -0)) others.push(i);
  }
  w.varint(ones.length);
  let last = 0;
  for (const i of ones) {
    w.varint(i - last);
    last = i;
  }
  w.varint(others.length);
  last = 0;
  for (const i of others) {
    w.varint(i - last);
    w.float(features[i]!);
    last = i;
  }
}

function readFeatures(r: Reader): number[] {
  const features = new Array<number>(r.varint()).fill(0);
  let i = 0;
  for (let n = r.varint(); n > 0; n--) features[(i += r.varint())] = 1;
  i = 0;
  for (let n = r.varint(); n > 0; n--) {
    i += r.varint();
    features[i] = r.float();
  }
  return features;
}

/** The epoch ms of an ISO time written by `toISOString`, or undefined for any other text. */
function isoMillis(text: string): number | undefined {
  const ms = Date.parse(text);
  return Number.isFinite(ms) && new Date(ms).toISOString() === text ? ms : undefined;
}

function isDecisionBody(
  body: unknown,
): body is { choices: Record<string, Choice>; features: number[]; sendAt?: string } & Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return false;
  const { choices, features, sendAt } = body as Record<string, unknown>;
  if (sendAt !== undefined && typeof sendAt !== 'string') return false;
  if (!Array.isArray(features) || !features.every((x) => typeof x === 'number')) return false;
  if (typeof choices !== 'object' || choices === null || Array.isArray(choices)) return false;
  return Object.values(choices).every(isCompactChoice);
}

/** A choice the compact format round-trips: {arm, probability}, or with a `best` its `reason` agrees with. */
function isCompactChoice(c: unknown): boolean {
  if (typeof c !== 'object' || c === null) return false;
  const { arm, probability, reason, best } = c as Record<string, unknown>;
  if (typeof arm !== 'string' || typeof probability !== 'number') return false;
  const keys = Object.keys(c).length;
  if (keys === 2) return true;
  if (keys !== 4 || typeof best !== 'number') return false;
  return reason === 'exploit' ? best === probability : reason === 'explore';
}
