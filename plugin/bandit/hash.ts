/**
 * Stable, dependency-free string hashing. The same input gives the same output on every
 * machine and every run, which is what holdout assignment and RNG seeding need.
 */

/** cyrb128: a fast 128-bit non-cryptographic hash; four 32-bit words. */
export function hash128(text: string): [number, number, number, number] {
  let h1 = 1779033703;
  let h2 = 3144134277;
  let h3 = 1013904242;
  let h4 = 2773480762;
  for (let i = 0; i < text.length; i++) {
    const k = text.charCodeAt(i);
    h1 = h2 ^ Math.imul(h1 ^ k, 597399067);
    h2 = h3 ^ Math.imul(h2 ^ k, 2869860233);
    h3 = h4 ^ Math.imul(h3 ^ k, 951274213);
    h4 = h1 ^ Math.imul(h4 ^ k, 2716044179);
  }
  h1 = Math.imul(h3 ^ (h1 >>> 18), 597399067);
  h2 = Math.imul(h4 ^ (h2 >>> 22), 2869860233);
  h3 = Math.imul(h1 ^ (h3 >>> 17), 951274213);
  h4 = Math.imul(h2 ^ (h4 >>> 19), 2716044179);
  h1 ^= h2 ^ h3 ^ h4;
  h2 ^= h1;
  h3 ^= h1;
  h4 ^= h1;
  return [h1 >>> 0, h2 >>> 0, h3 >>> 0, h4 >>> 0];
}

/** A 32-bit unsigned hash of a string (FNV-1a). Used for the hashing trick. */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * Stable unit hash `hash(salt, userId, version) → [0, 1)`. Changing the salt or the version
 * reshuffles everyone; otherwise a user keeps the same bucket forever. Version 1 is the only
 * version so far; it is part of the input so that a future change of algorithm cannot silently
 * move users between holdout and treatment.
 */
export function unitHash(salt: string, userId: string, version = 1): number {
  const [a, b] = hash128(`v${version}\u0000${salt}\u0000${userId}`);
  // 53 bits of the hash → a double in [0, 1).
  return ((a >>> 5) * 67108864 + (b >>> 6)) / 9007199254740992;
}
