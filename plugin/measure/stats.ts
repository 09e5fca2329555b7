/** The numeric helpers live in the pure core (the policies need them too); re-exported for the report. */
export * from '../bandit/distributions.ts';
