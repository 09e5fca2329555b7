/**
 * The pure bandit core: seeded RNG, stable hashing, feature encoding, exploration distributions
 * and policies. No I/O, no clock, no imports from the rest of nextbest.
 */
export * from './explore.ts';
export * from './features.ts';
export * from './hash.ts';
export * from './policies/index.ts';
export * from './rng.ts';
export * from './sparse.ts';
export * from './distributions.ts';
