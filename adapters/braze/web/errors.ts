import { ConfigError } from '../../kit/errors.ts';

/** A page passed options the module cannot work with. The message names every bad option. */
export class OnsiteConfigError extends ConfigError {
  constructor(
    message: string,
    readonly problems: readonly string[],
  ) {
    super(message, { code: 'invalid_options' });
    this.name = 'OnsiteConfigError';
  }
}
