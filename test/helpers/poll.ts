/**
 * Reads `read()` until `done(value)` holds, every `everyMs`, at most `attempts` times; then fails
 * naming `what`. For waiting on a process or a background run whose progress is only observable
 * from outside: bounded, so a hang fails with a message instead of running into the test timeout.
 */
export async function pollUntil<T>(
  read: () => T | Promise<T>,
  done: (value: T) => boolean,
  what: string,
  { everyMs = 20, attempts = 2_500 } = {},
): Promise<T> {
  for (let i = 0; i < attempts; i++) {
    const value = await read();
    if (done(value)) return value;
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
  throw new Error(`gave up waiting for ${what} after ${attempts} checks ${everyMs} ms apart`);
}
