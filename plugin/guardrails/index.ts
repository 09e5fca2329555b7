export * from './conditions.ts';
export * from './local-time.ts';
export * from './mask.ts';
export * from './quiet-hours.ts';
