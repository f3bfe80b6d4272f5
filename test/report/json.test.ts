import { describe, expect, it } from 'vitest';
import { jsonSafe, reportJsonText, toJsonText } from '../../src/report/json.js';

describe('JSON with infinities', () => {
  it('writes non-finite numbers as strings that Number() and float() read back', () => {
    const text = toJsonText({ edges: [-Infinity, 0.5, Infinity], statistic: Infinity, nan: NaN, ok: 1 });
    expect(text).toBe('{"edges":["-Infinity",0.5,"Infinity"],"statistic":"Infinity","nan":"NaN","ok":1}');
    const back = JSON.parse(text) as { edges: string[] };
    expect(back.edges.map(Number)).toEqual([-Infinity, 0.5, Infinity]);
  });

  it('jsonSafe gives an object that plain JSON.stringify writes the same way', () => {
    const value = { a: [Infinity, 1] };
    expect(JSON.stringify(jsonSafe(value))).toBe(toJsonText(value));
  });
});

describe('reportJsonText', () => {
  it('indents and ends with a newline', () => {
    expect(reportJsonText({ a: NaN })).toBe('{\n  "a": "NaN"\n}\n');
  });
});
