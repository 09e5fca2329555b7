import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import express, { Router } from 'express';

/** The page every console address answers with; its script and style come from ASSETS_PATH. */
export const INDEX_FILE = 'index.html';
/** Where the console's script, style and pictures are served. */
export const ASSETS_PATH = '/console';

/**
 * The console's built files (console/build.ts writes them): beside this module's output in
 * `dist/plugin/console/assets/` when the service runs from dist/, and the same folder found from
 * the sources when tests import them directly. Undefined when the console was not built.
 */
export function consoleAssetsDir(): string | undefined {
  const candidates = [
    new URL('./assets/', import.meta.url),
    new URL('../../dist/plugin/console/assets/', import.meta.url),
  ];
  for (const url of candidates) {
    const dir = fileURLToPath(url);
    if (existsSync(`${dir}${INDEX_FILE}`)) return dir;
  }
  return undefined;
}

/**
 * `GET /` (the console's page, never cached: it names the current bundle) and `GET /console/*`
 * (its files, from the package: nothing is fetched from another site). The page holds no data;
 * every figure on it comes from the API, which needs a session.
 */
export function assetRoutes(dir: string): Router {
  const router = Router();
  router.get('/', (_req, res) => {
    res.set('Cache-Control', 'no-store').sendFile(INDEX_FILE, { root: dir });
  });
  router.use(ASSETS_PATH, express.static(dir, { index: false, redirect: false, fallthrough: true, maxAge: 0 }));
  return router;
}
