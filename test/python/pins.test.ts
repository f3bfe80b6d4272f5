import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readPins } from '../../src/python/pins.js';
import { tempDir } from '../helpers/config.js';

describe('readPins', () => {
  it('reads name==version from plain and hashed pins, lower-casing names, skipping comments and options', () => {
    const file = path.join(tempDir('driftgate-pins-'), 'requirements.txt');
    writeFileSync(
      file,
      [
        '# a comment',
        '--require-hashes',
        'MarkupSafe==3.0.4 \\',
        '    --hash=sha256:0123',
        'numpy==1.26.4 \\',
        '    --hash=sha256:abcd \\',
        '    --hash=sha256:ef01',
        'six==1.16.0',
        'tzdata==2026.6 ; python_version >= "3.9"',
        '    # via pandas',
        '',
      ].join('\n'),
    );
    expect(Object.fromEntries(readPins(file))).toEqual({ markupsafe: '3.0.4', numpy: '1.26.4', six: '1.16.0', tzdata: '2026.6' });
  });
});
