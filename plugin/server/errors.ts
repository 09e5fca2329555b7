import type { NextFunction, Request, Response } from 'express';
import type { Logger } from 'pino';
import { RequestError } from '../service/index.ts';
import { StorageFault } from '../store/index.ts';

/**
 * The one place an error becomes an answer: `{error: {code, message, issues?}}` with the status of
 * the request error, 4xx for a request that could not be read (transportError), 503 for a write
 * the store could not keep (`storage_unavailable`, `storage_full`), and a 500 that says nothing
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
    if (err instanceof StorageFault) {
      // the store could not keep the write: the client may retry once /healthz is 200 again
      res.status(503).json({ error: { code: err.code, message: err.message } });
      return;
    }
    const refused = transportError(err);
    if (refused) {
      res.status(refused.status).json({ error: { code: refused.code, message: refused.message } });
      return;
    }
    logger.error({ err }, 'unhandled error');
    res.status(500).json({ error: { code: 'internal', message: 'internal error' } });
  };
}

interface Refusal {
  status: number;
  code: string;
  message: string;
}

/** What reading a body (express.raw: raw-body, zlib) throws; `type` names raw-body's errors. */
interface ReadError {
  type?: string;
  status?: number;
  code?: unknown;
  message?: string;
  limit?: number;
  expose?: boolean;
}

/** zlib's, brotli's and zstd's error codes: the body is not in its Content-Encoding. */
const DECOMPRESSION_CODE = /^(Z_|ERR__|ZSTD_)/;

/**
 * A request that could not be read, as the 4xx it is: a path that is not valid percent-encoding
 * (`malformed_path`; express decodes route parameters), a body too large, not in its
 * Content-Encoding, cut short or of an unknown encoding; undefined for anything else.
 */
function transportError(err: unknown): Refusal | undefined {
  if (err instanceof URIError)
    return { status: 400, code: 'malformed_path', message: `the path is not valid percent-encoding: ${err.message}` };
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as ReadError;
  const byType = bodyReadRefusal(e);
  if (byType) return byType;
  if (typeof e.code === 'string' && DECOMPRESSION_CODE.test(e.code))
    return {
      status: 400,
      code: 'malformed_body',
      message: `the body is not what its Content-Encoding says: ${String(e.message)}`,
    };
  // any other error express marks as the client's (http-errors with expose)
  if (e.expose === true && typeof e.status === 'number' && e.status >= 400 && e.status < 500)
    return { status: e.status, code: 'bad_request', message: String(e.message) };
  return undefined;
}

function bodyReadRefusal(e: ReadError): Refusal | undefined {
  switch (e.type) {
    case 'entity.too.large':
      return {
        status: 413,
        code: 'body_too_large',
        message: `the body is larger than the ${e.limit} bytes this route accepts`,
      };
    case 'entity.parse.failed':
      return { status: 400, code: 'malformed_json', message: `the body is not valid JSON: ${e.message}` };
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return { status: 415, code: 'unsupported_encoding', message: String(e.message) };
    case 'request.size.invalid':
      return { status: 400, code: 'malformed_body', message: 'the body is not as long as its Content-Length says' };
    case 'request.aborted':
      return { status: 400, code: 'request_aborted', message: 'the client closed the request before the whole body' };
    default:
      return undefined;
  }
}
