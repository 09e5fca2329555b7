import { Router } from 'express';
import { createKeySchema, generateApiKey, hashApiKey, parseBody } from '../../service/index.ts';
import { ADMIN } from '../auth.ts';
import type { RouteContext } from './context.ts';

/** Workspace keys (created and shown once) and erasure of a user. */
export function adminRoutes(ctx: RouteContext): Router {
  const router = Router();
  router.post(
    '/v1/keys',
    ctx.json,
    ctx.authed(ADMIN, async (req, res, { service, keyLabel }) => {
      const body = parseBody(createKeySchema, req.body);
      const key = generateApiKey(body.scope === 'public' ? 'nb_pk_' : undefined);
      await ctx.store.addApiKey({
        keyHash: hashApiKey(key),
        workspace: service.workspace,
        scope: body.scope,
        label: body.label,
        createdAt: Date.now(),
      });
      ctx.logger.info({ scope: body.scope, label: body.label, by: keyLabel }, 'api key created');
      res.status(201).json({ key, scope: body.scope, label: body.label, note: 'shown once; only its hash is stored' });
    }),
  );

  router.delete(
    '/v1/users/:userId',
    ctx.authed(ADMIN, async (req, res, { service }) => {
      res.json({ erased: await service.eraseUser(String(req.params.userId)) });
    }),
  );
  return router;
}
