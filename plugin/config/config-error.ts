/** A config that cannot be used: syntax errors or validation errors, all of them in `errors`. */
export class ConfigError extends Error {
  readonly code = 'invalid_config';
  /** HTTP status when the config came in a request (admin API). */
  readonly status = 400;
  readonly errors: string[];

  constructor(errors: string[], source?: string, options?: { cause?: unknown }) {
    const head = source ? `Invalid config in ${source}` : 'Invalid config';
    super(`${head}:\n${errors.map((e) => `  - ${e}`).join('\n')}`, options);
    this.name = 'ConfigError';
    this.errors = errors;
  }
}
