import { describe, expect, it } from 'vitest';
import { pyLines, pyRawBlock, pyString, pyValue } from '../../src/airflow/python-literal.js';
import { InputError } from '../../src/errors.js';
import { runChild } from '../../src/process/run.js';
import { ENVIRONMENTS, venvPython } from '../../src/python/bootstrap.js';
import { CORPUS, CORPUS_NAME } from './corpus.js';

describe('pyString', () => {
  it.each([
    ['plain', '"plain"'],
    ['', '""'],
    [`it's "x"`, `"it's \\"x\\""`],
    ['a """ b', '"a \\"\\"\\" b"'],
    ['back\\slash', '"back\\\\slash"'],
    ['one\ntwo\r\tthree', '"one\\ntwo\\r\\tthree"'],
    ['nul\u0000 del\u007f', '"nul\\x00 del\\x7f"'],
    ['é ü', '"\\xe9 \\xfc"'],
    ['€', '"\\u20ac"'],
    ['😀', '"\\U0001f600"'],
    ['{{ run_id }} $(x);', '"{{ run_id }} $(x);"'],
  ])('%j -> %s', (input, expected) => {
    expect(pyString(input)).toBe(expected);
  });

  it('refuses an unpaired surrogate instead of writing a string Python would hold differently', () => {
    expect(() => pyString('a\ud800b')).toThrow(InputError);
    expect(() => pyString('a\ud800b')).toThrow('expected text without unpaired UTF-16 surrogates, got one (U+D800) in "a\\ud800b"');
  });

  it('Python reads back exactly the original strings (ast.literal_eval in the Airflow environment)', async () => {
    const values = [...Object.values(CORPUS), CORPUS_NAME, 'x\u0001\u001f\u0080\u00ff\u0100\uffff\u{10ffff}'];
    const source = `[${values.map(pyString).join(', ')}]`;
    const script = 'import ast, json, sys; print(json.dumps(ast.literal_eval(sys.argv[1])))';
    const { stdout } = await runChild(venvPython(ENVIRONMENTS.airflow.venvDir), ['-c', script, source]);
    expect(JSON.parse(stdout)).toEqual(values);
  });
});

describe('pyValue, pyLines, pyRawBlock', () => {
  it('writes JSON-like data as Python literals', () => {
    expect(pyValue({ a: [1, 0.25, 1e-7, true, false, null], 'b"': 'c' })).toBe('{"a": [1, 0.25, 1e-7, True, False, None], "b\\"": "c"}');
    expect(() => pyValue(Number.NaN)).toThrow('expected a finite number for a Python literal, got NaN');
  });

  it('splits text into one escaped literal per line', () => {
    expect(pyLines('one\n"two"\n')).toBe('(\n    "one\\n"\n    "\\"two\\"\\n"\n)');
    expect(pyLines('single')).toBe('"single"');
  });

  it('writes constant scripts raw, and refuses text a raw literal cannot hold', () => {
    expect(pyRawBlock('echo "$X"\nprintf \'%s\\n\'\n')).toBe('r"""echo "$X"\nprintf \'%s\\n\'\n"""');
    expect(() => pyRawBlock('a """ b')).toThrow('cannot write');
    expect(() => pyRawBlock('ends with \\')).toThrow('cannot write');
    expect(() => pyRawBlock('ends with "')).toThrow('cannot write');
  });
});
