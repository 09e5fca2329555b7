/** A page passed options the module cannot work with. The message names every bad option. */
export class OnsiteConfigError extends Error {
  readonly code = 'invalid_options';

  constructor(
    message: string,
    readonly problems: readonly string[],
  ) {
    super(message);
    this.name = 'OnsiteConfigError';
  }
}
