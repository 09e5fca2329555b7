/**
 * Measurement: the holdout lift report and the numeric helpers behind it.
 * Pure: data in, data out; no I/O, no clock, no randomness; imports only the pure core (plugin/bandit).
 */
export * from './lift.ts';
export * from './stats.ts';
export * from './attribute.ts';
export * from './bootstrap.ts';
export * from './window-report.ts';
export * from './off-policy.ts';
export * from './reward-model.ts';
