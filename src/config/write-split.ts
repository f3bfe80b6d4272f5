/**
 * Rewrite `router.ab_split_b` (and `router.shadow_share`) in the YAML config in place. The file stays
 * the one source of truth for the shares (the router watches it), so the edit keeps every comment and
 * byte around the value, and
 * lands through editConfigFile: under the writers' lock, re-read inside it, atomically (temp file and
 * rename, a reader sees the old file or the new one), through a symlink, keeping mode and owner.
 */
import { isScalar, parseDocument } from 'yaml';
import { ConfigError, describe } from '../errors.js';
import { editConfigFile, editConfigFileAsync } from './edit-file.js';

/** The live shares of `router` the CLI and the router write: users sent to B, requests shadowed. */
export type ShareKey = 'ab_split_b' | 'shadow_share';
export type Shares = Partial<Record<ShareKey, number>>;

function checkShares(configFile: string, shares: Shares): void {
  for (const [key, value] of Object.entries(shares)) {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 1) {
      throw new ConfigError(configFile, `router.${key}`, `expected a number >= 0 and <= 1, got ${describe(value)}`);
    }
  }
}

/** Set the shares in one edit, waiting for the writers' lock synchronously (the CLI: a transition's reset is synchronous). */
export function writeShares(configFile: string, shares: Shares): void {
  checkShares(configFile, shares);
  editConfigFile(configFile, (text) => sharesText(configFile, text, shares));
}

/** End a test's traffic: no users to B, no shadow (every transition that ends a test). */
export function resetShares(configFile: string): void {
  writeShares(configFile, { ab_split_b: 0, shadow_share: 0 });
}

/** Set the split alone (PUT /ab). */
export function writeSplit(configFile: string, value: number): void {
  writeShares(configFile, { ab_split_b: value });
}

/** Set the split, waiting for the lock without blocking the event loop (the router's PUT /ab). */
export async function writeSplitAsync(configFile: string, value: number): Promise<void> {
  const shares = { ab_split_b: value };
  checkShares(configFile, shares);
  await editConfigFileAsync(configFile, (text) => sharesText(configFile, text, shares));
}

/** The file's text with the shares set; runs inside the lock on the text read there. */
function sharesText(configFile: string, text: string, shares: Shares): string {
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: false });
  const yamlError = doc.errors[0];
  if (yamlError) throw new ConfigError(configFile, '', `broken YAML: ${yamlError.message.split('\n')[0]}`, { cause: yamlError });
  const router = doc.get('router', true);
  if (isScalar(router)) {
    // `router:` with nothing under it is an empty section; anything else there is not a mapping.
    if (router.value !== null) throw new ConfigError(configFile, 'router', `expected a mapping, got ${describe(router.value)}`);
    doc.delete('router');
  }
  let out = text;
  for (const [key, value] of Object.entries(shares) as [ShareKey, number][]) out = withShare(out, key, value);
  return out;
}

/**
 * Replace the value's own characters when the key exists, so every other byte of the file (comment
 * alignment, flow lists) stays as the operator wrote it; otherwise add the key through the document.
 * A key that is absent stays absent when the value is its default, 0 (a reset adds no line).
 */
function withShare(text: string, key: ShareKey, value: number): string {
  const path = ['router', key];
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: false });
  if (isScalar(doc.get('router', true))) doc.delete('router');
  const node = doc.getIn(path, true);
  if (node === undefined && value === 0 && key !== 'ab_split_b') return text;
  if (isScalar(node) && node.range) {
    const [start, end] = node.range;
    const spliced = `${text.slice(0, start)}${String(value)}${text.slice(end)}`;
    const check = parseDocument(spliced, { uniqueKeys: true });
    if (check.errors.length === 0 && check.getIn(path) === value) return spliced;
  }
  doc.setIn(path, value);
  return doc.toString();
}
