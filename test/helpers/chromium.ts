import { existsSync } from 'node:fs';

/** Where a Chromium or Chrome usually is, after `CHROME_PATH`: Debian and Ubuntu packages, then macOS apps. */
export const CHROMIUM_LOCATIONS = [
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/usr/bin/google-chrome',
  '/usr/bin/google-chrome-stable',
  '/Applications/Chromium.app/Contents/MacOS/Chromium',
  '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome',
];

const HOW_TO_GET_ONE =
  'set CHROME_PATH to a Chromium or Chrome, or install one (Debian/Ubuntu: apt-get update && apt-get install -y chromium; macOS: brew install --cask chromium); Playwright cannot download browsers here';

/** The browser the browser tests drive: `CHROME_PATH` when set (and there), else the first usual location that exists. */
export function findChromium(
  env: Record<string, string | undefined> = process.env,
  exists: (path: string) => boolean = existsSync,
): string | undefined {
  if (env.CHROME_PATH) return exists(env.CHROME_PATH) ? env.CHROME_PATH : undefined;
  return CHROMIUM_LOCATIONS.find((path) => exists(path));
}

/**
 * The Chromium for a browser test file, or undefined when there is none: the file's tests are then
 * skipped with one line saying how to get one. Under CI=true a missing browser is an error, so CI
 * can never pass without running them.
 */
export function chromiumForTests(
  env: Record<string, string | undefined> = process.env,
  exists: (path: string) => boolean = existsSync,
): string | undefined {
  const path = findChromium(env, exists);
  if (path) return path;
  if (env.CI === 'true')
    throw new Error(`no Chromium for the browser tests, and CI=true requires them: ${HOW_TO_GET_ONE}`);
  console.warn(`\n[browser tests skipped] no Chromium found: ${HOW_TO_GET_ONE}\n`);
  return undefined;
}
