export * from './app.ts';
export * from './errors.ts';
export * from './keys.ts';
export * from './metrics.ts';
export * from './schemas.ts';
export * from './serve.ts';
export * from './service.ts';
export * from './extensions.ts';
