import fc from 'fast-check';

/**
 * Property tests draw from one fixed seed so that every run of `npm test` checks the same cases
 * and a failure reproduces. Set FC_SEED to explore other cases (and to replay a reported one).
 */
fc.configureGlobal({ seed: Number(process.env.FC_SEED ?? 20261123) });
