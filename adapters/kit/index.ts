/** What the adapters share: errors, the request-with-retry, the limiter, bisect and the adapter definition. */
export * from './adapter.ts';
export * from './bisect.ts';
export * from './errors.ts';
export * from './limiter.ts';
export * from './pacing.ts';
export * from './retry.ts';
