import { afterEach, describe, expect, it, vi } from 'vitest';
import { chromiumForTests, CHROMIUM_LOCATIONS, findChromium } from './chromium.ts';

const only =
  (...paths: string[]) =>
  (path: string) =>
    paths.includes(path);

describe('finding a Chromium for the browser tests', () => {
  afterEach(() => vi.restoreAllMocks());

  it.each([
    [
      'CHROME_PATH first, when it exists',
      { CHROME_PATH: '/opt/chrome' },
      only('/opt/chrome', '/usr/bin/chromium'),
      '/opt/chrome',
    ],
    [
      'nothing when CHROME_PATH names no file, rather than another browser',
      { CHROME_PATH: '/opt/missing' },
      only('/usr/bin/chromium'),
      undefined,
    ],
    ["Debian's chromium", {}, only('/usr/bin/chromium'), '/usr/bin/chromium'],
    ["macOS's Google Chrome", {}, only(CHROMIUM_LOCATIONS.at(-1)!), CHROMIUM_LOCATIONS.at(-1)],
    ['nothing on a machine without one', {}, only(), undefined],
  ])('finds %s', (_title, env, exists, expected) => {
    expect(findChromium(env, exists)).toBe(expected);
  });

  it('skips with one line saying how to get one where there is none', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    expect(chromiumForTests({}, only())).toBeUndefined();
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]![0])).toContain('apt-get install -y chromium');
  });

  it('fails under CI=true where there is none', () => {
    expect(() => chromiumForTests({ CI: 'true' }, only())).toThrow('CI=true requires them');
  });
});
