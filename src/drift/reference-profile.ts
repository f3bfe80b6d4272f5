/**
 * A reference profile: the reference's columns as drift reads them, precomputed once by
 * `driftgate drift profile`, so a scheduled monitor does not re-parse and re-sort the reference at every
 * run. It holds each numeric feature's values sorted (float64; KS and PSI stay exact, since Sturges bins
 * span the pooled range and need every reference value), each categorical feature's and the target's
 * counts, and the fingerprint of what it was made from: each reference file's path, size and mtime,
 * and the features and target asked for. A profile that does not match is not used: drift reads the
 * CSV and says why.
 *
 * Layout (little-endian): the 8 bytes "DGPROF1\n", the header's byte length (uint32), 4 zero bytes, the
 * header (JSON, padded with spaces to 8 bytes), then each numeric column's float64 values in header order.
 * Written whole through writeFileAtomic, so a crash leaves the old profile or the new one.
 */

import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../config/index.js';
import { DriftgateError, InputError, UsageError } from '../errors.js';
import { writeFileAtomic } from '../fs-atomic.js';
import { isGlob } from '../fs-glob.js';
import { sortFloat64 } from '../stats/radix-sort.js';
import { describeInput, resolveInput, type InputFiles } from './input-files.js';
import type { ColumnsRequest, DataColumns, ValueCounts } from './read-columns.js';
import { readColumnsBig } from './read-columns-thread.js';

const MAGIC = 'DGPROF1\n';
const PREFIX_BYTES = 16;
export const PROFILE_FORMAT = 1;
/** A profile made by `driftgate drift profile` for a single-file reference lies beside it. */
export const PROFILE_SUFFIX = '.profile';

interface SourceFile {
  path: string;
  size: number;
  mtime_ms: number;
}

type ProfileFeature =
  | { name: string; type: 'numeric'; count: number }
  | { name: string; type: 'categorical'; counts: [string, number][] };

interface ProfileHeader {
  format: number;
  created_at: string;
  rows: number;
  files: SourceFile[];
  features: ProfileFeature[];
  target: { name: string; counts: [string, number][] | null } | null;
}

/** What a drift run did with the profile, for the report. */
export interface ProfileUse {
  path: string;
  used: boolean;
  /** Why it was not used; null when it was. */
  reason: string | null;
}

/** drift.reference_profile, else `<reference>.profile` beside a single-file reference; null for a glob without the key. */
export function profilePath(config: Config, reference: string, cwd = process.cwd()): string | null {
  if (config.drift.reference_profile !== null) return path.resolve(cwd, config.drift.reference_profile);
  if (isGlob(reference)) return null;
  return `${path.resolve(cwd, reference)}${PROFILE_SUFFIX}`;
}

/**
 * Each file's path, size and mtime. A profile's is taken before its files are read: a file changed during
 * the read then no longer matches, so the profile is never used for content it does not hold.
 */
export async function fingerprint(files: readonly string[]): Promise<SourceFile[]> {
  return Promise.all(
    files.map(async (file) => {
      let info;
      try {
        info = await stat(file);
      } catch (error) {
        // Gone since the glob was expanded: the same answer the readers give.
        throw new InputError(`${file}: file not found`, { code: 'INPUT_NOT_FOUND', cause: error });
      }
      return { path: file, size: info.size, mtime_ms: info.mtimeMs };
    }),
  );
}

function countsOf(counts: ValueCounts): [string, number][] {
  return [...counts.entries()];
}

/** Sorts the numeric columns of `data` in place and writes them, with the counts and the files' fingerprint, as the profile `file`. */
export async function writeReferenceProfile(file: string, files: SourceFile[], request: ColumnsRequest, data: DataColumns, now = new Date()): Promise<{ bytes: number }> {
  const features: ProfileFeature[] = request.features.map((feature) =>
    feature.type === 'numeric'
      ? { name: feature.name, type: 'numeric', count: data.numeric.get(feature.name)!.length }
      : { name: feature.name, type: 'categorical', counts: countsOf(data.categorical.get(feature.name)!) },
  );
  const header: ProfileHeader = {
    format: PROFILE_FORMAT,
    created_at: now.toISOString(),
    rows: data.rows,
    files,
    features,
    target: request.target === null ? null : { name: request.target, counts: data.target ? countsOf(data.target) : null },
  };
  let json = Buffer.from(JSON.stringify(header));
  if (json.length % 8 !== 0) json = Buffer.concat([json, Buffer.alloc(8 - (json.length % 8), ' ')]);
  const columns = request.features.filter((f) => f.type === 'numeric').map((f) => sortFloat64(data.numeric.get(f.name)!));
  const bodyBytes = columns.reduce((sum, c) => sum + c.byteLength, 0);
  const bytes = new Uint8Array(PREFIX_BYTES + json.length + bodyBytes);
  bytes.set(Buffer.from(MAGIC, 'latin1'), 0);
  new DataView(bytes.buffer).setUint32(8, json.length, true);
  bytes.set(json, PREFIX_BYTES);
  let offset = PREFIX_BYTES + json.length;
  for (const column of columns) {
    bytes.set(new Uint8Array(column.buffer, column.byteOffset, column.byteLength), offset);
    offset += column.byteLength;
  }
  try {
    writeFileAtomic(file, bytes, { durable: true });
  } catch (error) {
    throw new DriftgateError('UNAVAILABLE', `writing the reference profile ${file} failed: ${(error as Error).message}; the profile there before, if any, is unchanged`, { cause: error });
  }
  return { bytes: bytes.length };
}

type LoadResult = { ok: true; data: DataColumns; createdAt: string } | { ok: false; reason: string };

/** The header's shape, checked before anything is read from it: a hand-edited or foreign file must not crash a drift run. */
function wellFormed(header: ProfileHeader): boolean {
  const count = (n: unknown): boolean => Number.isSafeInteger(n) && (n as number) >= 0;
  const pairs = (c: unknown): boolean => Array.isArray(c) && c.every((p) => Array.isArray(p) && p.length === 2 && typeof p[0] === 'string' && count(p[1]));
  return (
    count(header.rows) &&
    Array.isArray(header.files) &&
    header.files.every((f) => typeof f?.path === 'string' && typeof f.size === 'number' && typeof f.mtime_ms === 'number') &&
    Array.isArray(header.features) &&
    header.features.every((f) => typeof f?.name === 'string' && (f.type === 'numeric' ? count(f.count) : f.type === 'categorical' && pairs(f.counts))) &&
    (header.target === null || (typeof header.target?.name === 'string' && (header.target.counts === null || pairs(header.target.counts))))
  );
}

/** Why a profile does not describe these files and columns, or null when it does. */
function mismatch(header: ProfileHeader, files: readonly SourceFile[], request: ColumnsRequest): string | null {
  const was = new Map(header.files.map((f) => [f.path, f]));
  for (const file of files) {
    const before = was.get(file.path);
    if (!before) return `it was made from ${header.files.map((f) => f.path).join(', ')}, not ${file.path}`;
    if (before.size !== file.size || before.mtime_ms !== file.mtime_ms) {
      return `${file.path} changed since the profile was made (size ${before.size} → ${file.size} bytes, modified ${new Date(before.mtime_ms).toISOString()} → ${new Date(file.mtime_ms).toISOString()})`;
    }
  }
  if (header.files.length !== files.length) return `it was made from ${header.files.length} files, the reference has ${files.length}`;
  const wanted = request.features.map((f) => `${f.name}:${f.type}`).join(', ');
  const has = header.features.map((f) => `${f.name}:${f.type}`).join(', ');
  if (wanted !== has) return `it holds the features ${has}, the config asks for ${wanted}`;
  if ((header.target?.name ?? null) !== request.target) return `it holds the target ${JSON.stringify(header.target?.name ?? null)}, the config names ${JSON.stringify(request.target)}`;
  return null;
}

/**
 * The reference columns from the profile `file` when it matches `input` and `request`; null when there
 * is no such file; else the reason it cannot be used (stale, another layout, torn or not a profile).
 */
export async function loadReferenceProfile(file: string, input: InputFiles, request: ColumnsRequest): Promise<LoadResult | null> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    return { ok: false, reason: `it cannot be read (${(error as Error).message})` };
  }
  if (bytes.length < PREFIX_BYTES || bytes.toString('latin1', 0, 8) !== MAGIC) return { ok: false, reason: 'it is not a Driftgate reference profile' };
  const headerBytes = bytes.readUInt32LE(8);
  if (PREFIX_BYTES + headerBytes > bytes.length) return { ok: false, reason: `it is cut short (${bytes.length} bytes, the header alone needs ${PREFIX_BYTES + headerBytes})` };
  let header: ProfileHeader;
  try {
    header = JSON.parse(bytes.toString('utf8', PREFIX_BYTES, PREFIX_BYTES + headerBytes)) as ProfileHeader;
  } catch {
    return { ok: false, reason: 'its header is not valid JSON' };
  }
  if (header?.format !== PROFILE_FORMAT) return { ok: false, reason: `it has format ${JSON.stringify(header?.format ?? null)}; this Driftgate reads format ${PROFILE_FORMAT} (run driftgate drift profile again)` };
  if (!wellFormed(header)) return { ok: false, reason: 'its header does not describe a profile (files, features, rows)' };
  const stale = mismatch(header, await fingerprint(input.files), request);
  if (stale !== null) return { ok: false, reason: stale };
  const numericValues = header.features.reduce((sum, f) => sum + (f.type === 'numeric' ? f.count : 0), 0);
  const expected = PREFIX_BYTES + headerBytes + numericValues * 8;
  if (bytes.length !== expected) return { ok: false, reason: `it has ${bytes.length} bytes, its header describes ${expected}` };

  // One aligned copy of the body: a Float64Array view needs an 8-byte-aligned offset in its buffer.
  const body = new Float64Array(numericValues);
  new Uint8Array(body.buffer).set(bytes.subarray(PREFIX_BYTES + headerBytes));
  const numeric = new Map<string, Float64Array>();
  const categorical = new Map<string, ValueCounts>();
  let at = 0;
  for (const feature of header.features) {
    if (feature.type === 'numeric') {
      numeric.set(feature.name, body.subarray(at, at + feature.count));
      at += feature.count;
    } else {
      categorical.set(feature.name, new Map(feature.counts));
    }
  }
  const target = header.target?.counts ? new Map(header.target.counts) : null;
  return { ok: true, createdAt: header.created_at, data: { rows: header.rows, numeric, categorical, target, fastRows: 0, csvParseRows: 0 } };
}

/** Where `driftgate drift profile` writes: profilePath(); a glob reference without drift.reference_profile is a usage error. */
export function profileOutPath(config: Config, reference: string, cwd = process.cwd()): string {
  const file = profilePath(config, reference, cwd);
  if (file === null) throw new UsageError(`drift profile: the reference ${reference} is a glob, so there is no file to put the profile beside; set drift.reference_profile in ${config.source.file}`);
  return file;
}

export interface ProfileResult {
  profile: string;
  reference: string;
  files: string[];
  rows: number;
  features: number;
  bytes: number;
}

/** `driftgate drift profile`: reads the reference (dataset.reference or `reference`) and writes its profile. */
export async function makeReferenceProfile(config: Config, options: { reference?: string | null; cwd?: string; now?: Date; signal?: AbortSignal } = {}): Promise<ProfileResult> {
  const reference = options.reference ?? config.dataset.reference;
  const file = profileOutPath(config, reference, options.cwd);
  const input = await resolveInput(reference, options.cwd);
  const request = { features: config.dataset.features, target: config.dataset.target };
  const files = await fingerprint(input.files);
  const { data } = await readColumnsBig(input.files, request, { signal: options.signal });
  if (data.rows === 0) throw new InputError(`reference set ${describeInput(input)} is empty: expected at least one data row, got none`);
  const { bytes } = await writeReferenceProfile(file, files, request, data, options.now);
  return { profile: file, reference: input.pattern, files: input.files, rows: data.rows, features: request.features.length, bytes };
}
