/**
 * Rewrite `router.ab_split_b` in the YAML config in place. The file stays the one source of truth for
 * the split (the router watches it), so the edit keeps every comment and byte around the value, and
 * lands through editConfigFile: under the writers' lock, re-read inside it, atomically (temp file and
 * rename, a reader sees the old file or the new one), through a symlink, keeping mode and owner.
 */
import { isScalar, parseDocument, type Document } from 'yaml';
import { ConfigError, describe } from '../errors.js';
import { editConfigFile, editConfigFileAsync } from './edit-file.js';

const SPLIT_PATH = ['router', 'ab_split_b'] as const;

function checkSplit(configFile: string, value: number): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 1) {
    throw new ConfigError(configFile, SPLIT_PATH.join('.'), `expected a number >= 0 and <= 1, got ${describe(value)}`);
  }
}

/** Set the split, waiting for the writers' lock synchronously (the CLI: promote's resetSplit is synchronous). */
export function writeSplit(configFile: string, value: number): void {
  checkSplit(configFile, value);
  editConfigFile(configFile, (text) => splitText(configFile, text, value));
}

/** Set the split, waiting for the lock without blocking the event loop (the router's PUT /ab). */
export async function writeSplitAsync(configFile: string, value: number): Promise<void> {
  checkSplit(configFile, value);
  await editConfigFileAsync(configFile, (text) => splitText(configFile, text, value));
}

/** The file's text with the split set; runs inside the lock on the text read there. */
function splitText(configFile: string, text: string, value: number): string {
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: false });
  const yamlError = doc.errors[0];
  if (yamlError) throw new ConfigError(configFile, '', `broken YAML: ${yamlError.message.split('\n')[0]}`, { cause: yamlError });
  const router = doc.get('router', true);
  if (isScalar(router)) {
    // `router:` with nothing under it is an empty section; anything else there is not a mapping.
    if (router.value !== null) throw new ConfigError(configFile, 'router', `expected a mapping, got ${describe(router.value)}`);
    doc.delete('router');
  }
  return withSplit(text, doc, value);
}

/**
 * Replace the value's own characters when the key exists, so every other byte of the file (comment
 * alignment, flow lists) stays as the operator wrote it; otherwise add the key through the document.
 */
function withSplit(text: string, doc: Document, value: number): string {
  const node = doc.getIn([...SPLIT_PATH], true);
  if (isScalar(node) && node.range) {
    const [start, end] = node.range;
    const spliced = `${text.slice(0, start)}${String(value)}${text.slice(end)}`;
    const check = parseDocument(spliced, { uniqueKeys: true });
    if (check.errors.length === 0 && check.getIn([...SPLIT_PATH]) === value) return spliced;
  }
  doc.setIn([...SPLIT_PATH], value);
  return doc.toString();
}
