import { describe, expect, it } from 'vitest';
import { parseWatch, readWatch, WATCH_TAG } from '../../src/registry/index.js';

describe('the watch tag', () => {
  it('is driftgate.watch, read off the registered model like the journal', () => {
    expect(WATCH_TAG).toBe('driftgate.watch');
    const text = '{"version": "3", "previous": "2", "started_at": "2026-05-06T07:00:00.000Z"}';
    expect(readWatch({ name: 'm', tags: [{ key: 'driftgate.transition', value: '{}' }, { key: WATCH_TAG, value: text }] })).toEqual({
      text,
      watch: { version: '3', previous: '2', started_at: '2026-05-06T07:00:00.000Z' },
    });
    expect(readWatch({ name: 'm', tags: [] })).toBeNull();
    expect(readWatch(null)).toBeNull();
  });

  it('takes versions as strings or integers', () => {
    expect(parseWatch('{"version": 3, "previous": 2, "started_at": "2026-05-06T07:00:00Z"}')).toEqual({ version: '3', previous: '2', started_at: '2026-05-06T07:00:00Z' });
  });

  it.each([
    'not json',
    'null',
    '[]',
    '{"version": "3", "started_at": "2026-05-06T07:00:00Z"}',
    '{"version": "3", "previous": "3", "started_at": "2026-05-06T07:00:00Z"}',
    '{"version": "3", "previous": "v2", "started_at": "2026-05-06T07:00:00Z"}',
    '{"version": "3", "previous": 0, "started_at": "2026-05-06T07:00:00Z"}',
    '{"version": "3", "previous": "2"}',
    '{"version": "3", "previous": "2", "started_at": "yesterday"}',
  ])('%s is not a watch', (text) => {
    expect(parseWatch(text)).toBeNull();
  });
});
