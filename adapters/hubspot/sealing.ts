import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { ConfigError } from '../kit/index.ts';

const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** Format byte of a sealed blob, so a later format can be told apart. */
const FORMAT_V1 = 1;

/**
 * Reads a 256-bit key given as 64 hex characters or base64 (44 characters); throws a
 * ConfigError naming `variable` otherwise.
 */
export function parseKey(text: string, variable = 'HUBSPOT_TOKEN_KEY'): Buffer {
  const trimmed = text.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(trimmed)
    ? Buffer.from(trimmed, 'hex')
    : /^[A-Za-z0-9+/]{43}=?$/.test(trimmed)
      ? Buffer.from(trimmed, 'base64')
      : undefined;
  if (!key || key.length !== KEY_BYTES) {
    throw new ConfigError(
      `${variable} must be a 256-bit key: 64 hex characters or 44 base64 characters (generate one with \`openssl rand -base64 32\`)`,
    );
  }
  return key;
}

/**
 * Seals and opens secrets with AES-256-GCM: `[format][12-byte IV][16-byte tag][ciphertext]`.
 * The associated data (the portal id) binds a blob to its row, so a blob copied onto another
 * portal's row does not open.
 */
export class SecretBox {
  private readonly key: Buffer;

  constructor(key: Buffer) {
    if (key.length !== KEY_BYTES) throw new ConfigError(`the token key must be ${KEY_BYTES} bytes, got ${key.length}`);
    this.key = Buffer.from(key);
  }

  seal(plaintext: string, associatedData: string): Buffer {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(associatedData, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return Buffer.concat([Buffer.from([FORMAT_V1]), iv, cipher.getAuthTag(), body]);
  }

  /** The plaintext; throws when the blob was altered, belongs to another row or another key. */
  open(sealed: Uint8Array, associatedData: string): string {
    const buf = Buffer.from(sealed);
    if (buf.length < 1 + IV_BYTES + TAG_BYTES || buf[0] !== FORMAT_V1) throw new Error('not a sealed token blob');
    const iv = buf.subarray(1, 1 + IV_BYTES);
    const tag = buf.subarray(1 + IV_BYTES, 1 + IV_BYTES + TAG_BYTES);
    const decipher = createDecipheriv('aes-256-gcm', this.key, iv);
    decipher.setAAD(Buffer.from(associatedData, 'utf8'));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(buf.subarray(1 + IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
  }
}

/** How far in the future a state may be dated (clock skew between processes). */
export const STATE_FUTURE_SKEW_MS = 60_000;

/**
 * The OAuth `state` of an install: `<issuedAt>.<browser>.<hmac>`, HMAC-SHA256 under a key derived
 * from the client secret, where `<browser>` is the SHA-256 of the random nonce the browser that
 * started the install holds in a cookie. A callback whose state was not issued here, is older than
 * `ttlMs`, or comes from a browser without that nonce is refused. (That a state is used once is
 * kept by InstallGate.)
 */
export class InstallState {
  private readonly key: Buffer;

  constructor(
    secret: string,
    private readonly ttlMs: number,
  ) {
    this.key = createHmac('sha256', secret).update('nextbest/hubspot/install-state').digest();
  }

  issue(now: number, browserNonce: string): string {
    const payload = `${now}.${browserDigest(browserNonce)}`;
    return `${payload}.${this.mac(payload)}`;
  }

  /** Undefined when valid for the browser holding `browserNonce`, else why not. */
  check(state: string, now: number, browserNonce: string | undefined): string | undefined {
    const parts = state.split('.');
    if (parts.length !== 3) return 'state is malformed';
    const [issued, browser, mac] = parts;
    if (!sameBytes(mac, this.mac(`${issued}.${browser}`))) return 'state was not issued by this server';
    const at = Number(issued);
    if (!Number.isSafeInteger(at)) return 'state is malformed';
    if (now - at > this.ttlMs) return 'state has expired; start the install again';
    if (at - now > STATE_FUTURE_SKEW_MS) return 'state is from the future';
    if (browserNonce === undefined || !sameBytes(browser, browserDigest(browserNonce)))
      return 'the install was not started in this browser (its install cookie is missing or different); start it again';
    return undefined;
  }

  private mac(payload: string): string {
    return createHmac('sha256', this.key).update(payload).digest('base64url');
  }
}

/** What the state carries of the browser's nonce: its SHA-256, never the nonce itself. */
function browserDigest(nonce: string): string {
  return createHash('sha256').update(nonce).digest('base64url');
}

function sameBytes(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
