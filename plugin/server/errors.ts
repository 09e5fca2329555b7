import type { NextFunction, Request, Response } from 'express';
import type { Logger } from 'pino';
import { RequestError } from '../service/index.ts';

/**
 * The one place an error becomes an answer: `{error: {code, message, issues?}}` with the status of
 * the request error, 413/400/415 for bodies express could not read, and a 500 that says nothing
 * more (the log has the rest).
 */
export function answerErrors(logger: Logger) {
  return (err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    if (err instanceof RequestError) {
      res
        .status(err.status)
        .json({ error: { code: err.code, message: err.message, ...(err.issues ? { issues: err.issues } : {}) } });
      return;
    }
    const e = err as { type?: string; status?: number; message?: string; limit?: number };
    if (e?.type === 'entity.too.large') {
      res.status(413).json({
        error: { code: 'body_too_large', message: `the body is larger than the ${e.limit} bytes this route accepts` },
      });
      return;
    }
    if (e?.type === 'entity.parse.failed') {
      res.status(400).json({ error: { code: 'malformed_json', message: `the body is not valid JSON: ${e.message}` } });
      return;
    }
    if (e?.type === 'encoding.unsupported' || e?.type === 'charset.unsupported') {
      res.status(415).json({ error: { code: 'unsupported_encoding', message: String(e.message) } });
      return;
    }
    logger.error({ err }, 'unhandled error');
    res.status(500).json({ error: { code: 'internal', message: 'internal error' } });
  };
}
