import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { parseJsonBytes, RequestError } from '../service/index.ts';

/** `charset=…` of a Content-Type header, lower-cased, if it names one. */
function charsetOf(contentType: string | undefined): string | undefined {
  return /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(contentType ?? '')?.[1]?.toLowerCase();
}

/** JSON is UTF-8 (RFC 8259); a body that says it is something else is refused rather than misread. */
function refuseOtherCharsets(req: Request): void {
  const charset = charsetOf(req.get('content-type'));
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8')
    throw new RequestError(415, 'unsupported_encoding', `the body must be UTF-8 JSON, not charset "${charset}"`);
}

/** The body read as `bytes`, parsed: `{}` for an empty one (a common client mistake). */
function parsedBody(req: Request, bytes: Buffer): unknown {
  refuseOtherCharsets(req);
  return bytes.length === 0 ? {} : parseJsonBytes(bytes);
}

/**
 * Bodies of the API: JSON whatever the Content-Type says (curl -d sends form encoding by default),
 * read up to `limit` bytes after decompression (Content-Encoding gzip, deflate or br: 413 past it,
 * a 400 when the bytes are not of that encoding), then decoded and parsed by `parseJsonBytes`:
 * UTF-8, at most JSON_DEPTH_MAX levels deep, valid JSON. Each refusal is a 4xx naming it
 * (errors.ts); nothing recursive ever sees a body deeper than the limit.
 */
export function jsonBody(limit: string): RequestHandler {
  const read = express.raw({ limit, type: () => true });
  return (req: Request, res: Response, next: NextFunction) => {
    read(req, res, (err?: unknown) => {
      if (err) return next(err);
      if (!Buffer.isBuffer(req.body)) return next(); // no body, or parsed already
      try {
        req.body = parsedBody(req, req.body);
      } catch (parseErr) {
        return next(parseErr);
      }
      next();
    });
  };
}
