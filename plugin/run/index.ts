export * from './file-audience.ts';
export * from './run.ts';
