export * from '../config/index.ts';
export * from './decide.ts';
export * from './learn.ts';
export * from './model.ts';
export * from './types.ts';
export * from './ports.ts';
export * from './attributes.ts';
