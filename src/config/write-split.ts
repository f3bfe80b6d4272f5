/**
 * Rewrite `router.ab_split_b` in the YAML config in place. The file stays the one source of truth for
 * the split (the router watches it), so the edit keeps every comment and byte around the value, and
 * lands atomically (temp file and rename): a reader sees the old file or the new one.
 */
import { readFileSync } from 'node:fs';
import { isScalar, parseDocument, type Document } from 'yaml';
import { ConfigError, describe } from '../errors.js';
import { writeFileAtomic } from '../fs-atomic.js';

const SPLIT_PATH = ['router', 'ab_split_b'] as const;

export function writeSplit(configFile: string, value: number): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 1) {
    throw new ConfigError(configFile, SPLIT_PATH.join('.'), `expected a number >= 0 and <= 1, got ${describe(value)}`);
  }
  let text: string;
  try {
    text = readFileSync(configFile, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ConfigError(configFile, '', `cannot read the file (${code ?? String(error)})`, {
      cause: error,
      code: code === 'ENOENT' ? 'CONFIG_NOT_FOUND' : 'CONFIG_INVALID',
    });
  }
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: false });
  const yamlError = doc.errors[0];
  if (yamlError) throw new ConfigError(configFile, '', `broken YAML: ${yamlError.message.split('\n')[0]}`, { cause: yamlError });
  const router = doc.get('router', true);
  if (isScalar(router)) {
    // `router:` with nothing under it is an empty section; anything else there is not a mapping.
    if (router.value !== null) throw new ConfigError(configFile, 'router', `expected a mapping, got ${describe(router.value)}`);
    doc.delete('router');
  }
  writeFileAtomic(configFile, withSplit(text, doc, value));
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
