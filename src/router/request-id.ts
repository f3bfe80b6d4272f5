/**
 * Request ids any replica can verify without shared state: `1.<payload>.<signature>`, where the
 * payload is the issue time (6 bytes, ms) and 10 random bytes, and the signature the first 16 bytes
 * of HMAC-SHA256 over `1.<payload>` with the deployment's key, all base64url. So POST /feedback at
 * any replica accepts a label for a prediction another replica answered, refuses an id no router of
 * the deployment issued (404), and knows how old the prediction is without a lookup.
 *
 * The key is DRIFTGATE_REQUEST_KEY, or else a random key kept in `.driftgate-request-key` in the
 * log's folder: replicas that write their logs into one shared folder share it without setup.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { link, mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DriftgateError } from '../errors.js';

export const REQUEST_ID_VERSION = '1';
export const REQUEST_KEY_FILE = '.driftgate-request-key';

export type Verdict = { ok: true; issuedAt: number } | { ok: false; reason: 'unknown' | 'expired'; issuedAt: number | null };

export interface RequestIdOptions {
  key: string | Buffer;
  now?: () => number;
  random?: (bytes: number) => Buffer;
}

export class RequestIds {
  private readonly key: Buffer;
  private readonly now: () => number;
  private readonly random: (bytes: number) => Buffer;

  constructor(options: RequestIdOptions) {
    this.key = Buffer.isBuffer(options.key) ? options.key : Buffer.from(options.key, 'utf8');
    this.now = options.now ?? Date.now;
    this.random = options.random ?? randomBytes;
  }

  private sign(body: string): string {
    return createHmac('sha256', this.key).update(body).digest().subarray(0, 16).toString('base64url');
  }

  issue(): string {
    const payload = Buffer.alloc(16);
    payload.writeUIntBE(this.now(), 0, 6);
    this.random(10).copy(payload, 6);
    const body = `${REQUEST_ID_VERSION}.${payload.toString('base64url')}`;
    return `${body}.${this.sign(body)}`;
  }

  /** Whether this deployment issued the id, and no longer than `maxAgeMs` ago. */
  verify(id: string, maxAgeMs: number): Verdict {
    const parts = id.split('.');
    if (parts.length !== 3 || parts[0] !== REQUEST_ID_VERSION || parts[1]!.length !== 22 || parts[2]!.length !== 22) return { ok: false, reason: 'unknown', issuedAt: null };
    const expected = Buffer.from(this.sign(`${parts[0]}.${parts[1]}`));
    const given = Buffer.from(parts[2]!);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'unknown', issuedAt: null };
    const issuedAt = Buffer.from(parts[1]!, 'base64url').readUIntBE(0, 6);
    if (this.now() - issuedAt > maxAgeMs) return { ok: false, reason: 'expired', issuedAt };
    return { ok: true, issuedAt };
  }
}

/**
 * The deployment's request-id key: DRIFTGATE_REQUEST_KEY when set, else the key file in the log's
 * folder, created once (atomically: the first replica to link its file in wins, the others read it).
 */
export async function requestKey(configured: string | null, logPath: string): Promise<{ key: Buffer; source: string }> {
  if (configured !== null) return { key: Buffer.from(configured, 'utf8'), source: 'DRIFTGATE_REQUEST_KEY' };
  const file = path.join(path.dirname(logPath), REQUEST_KEY_FILE);
  const read = async (): Promise<Buffer | null> => {
    const text = (await readFile(file, 'utf8').catch(() => null))?.trim();
    return text && /^[0-9a-f]{64}$/.test(text) ? Buffer.from(text, 'hex') : null;
  };
  const existing = await read();
  if (existing) return { key: existing, source: file };
  const temp = `${file}.${process.pid}.tmp`;
  try {
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(temp, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600 });
    await link(temp, file).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'EEXIST') throw error;
    });
  } catch (error) {
    throw new DriftgateError('UNAVAILABLE', `cannot create the request-id key ${file} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); set DRIFTGATE_REQUEST_KEY`, { cause: error });
  } finally {
    await unlink(temp).catch(() => undefined);
  }
  const created = await read();
  if (!created) throw new DriftgateError('UNAVAILABLE', `the request-id key ${file} is not 64 hex digits; delete it (a new one is made) or set DRIFTGATE_REQUEST_KEY`, { exitCode: 2 });
  return { key: created, source: file };
}
