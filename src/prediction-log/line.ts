/**
 * One log row is one line of RFC 4180 CSV. Cells never hold a line break (the router refuses
 * control characters), so a row can be read on its own: a broken line spoils only itself, and a
 * file can be read from any line boundary.
 *
 * Text cells a spreadsheet would run as a formula (starting with = + - @, a tab or a carriage
 * return, OWASP's list) are written with a leading apostrophe, and so is any text that already
 * starts with one; a number is never touched. Reading strips one leading apostrophe, so the text
 * read back is exactly the text written.
 */
import { stringify } from 'csv-stringify/sync';
import { parseDecimal } from '../stats/number.js';

export type Cell = string | number | null;

const QUOTE = 0x27; // '

function isFormulaStart(code: number): boolean {
  // = + - @ \t \r, and ' so that the escape stays reversible.
  return code === 0x3d || code === 0x2b || code === 0x2d || code === 0x40 || code === 0x09 || code === 0x0d || code === QUOTE;
}

/** A text cell as written: formula starts neutralised, plain numbers ("-1") left alone. */
export function neutralise(text: string): string {
  if (text.length === 0 || !isFormulaStart(text.charCodeAt(0))) return text;
  if (text.charCodeAt(0) !== QUOTE && !Number.isNaN(parseDecimal(text))) return text;
  return `'${text}`;
}

/** The inverse of neutralise. */
export function restore(cell: string): string {
  return cell.length > 0 && cell.charCodeAt(0) === QUOTE ? cell.slice(1) : cell;
}

/** A text cell RFC 4180 (and csv-stringify) would quote: one holding a comma, a quote or a line break. */
const NEEDS_QUOTES = /[",\r\n]/;

/**
 * One row as a line (with its \n), text cells neutralised. A row none of whose text cells needs quotes
 * is its cells joined by commas, byte for byte what csv-stringify writes for it (tested against it):
 * csv-stringify's sync call sets up its options anew for every row, about 5 µs, the largest cost of a
 * row on the router's thread, paid twice for a request the shadow also predicts. Any row with a cell to
 * quote goes through csv-stringify, which stays the one authority on quoting.
 */
export function encodeLine(cells: readonly Cell[]): string {
  const out = new Array<string | number | null>(cells.length);
  for (let i = 0; i < cells.length; i++) {
    const cell = cells[i]!;
    if (typeof cell === 'string') {
      const text = neutralise(cell);
      if (NEEDS_QUOTES.test(text)) return stringify([cells.map((c) => (typeof c === 'string' ? neutralise(c) : c))]);
      out[i] = text;
    } else out[i] = cell;
  }
  // join writes null as an empty cell and a number as String(n), as csv-stringify does.
  return `${out.join(',')}\n`;
}

/** Several rows as lines, for one write. */
export function encodeLines(rows: readonly (readonly Cell[])[]): string {
  return stringify(rows.map((cells) => cells.map((cell) => (typeof cell === 'string' ? neutralise(cell) : cell))));
}

/**
 * The cells of one line (without its line end), quotes undone and formula escapes restored; null
 * when the quoting is broken (an unclosed quote, text after a closing quote, a bare quote).
 */
export function splitLine(line: string): string[] | null {
  if (line.indexOf('"') === -1) {
    const cells = line.split(',');
    for (let i = 0; i < cells.length; i++) {
      const cell = cells[i]!;
      if (cell.length > 0 && cell.charCodeAt(0) === QUOTE) cells[i] = cell.slice(1);
    }
    return cells;
  }
  const cells: string[] = [];
  const n = line.length;
  let i = 0;
  for (;;) {
    if (line.charCodeAt(i) === 0x22) {
      let value = '';
      i++;
      for (;;) {
        const q = line.indexOf('"', i);
        if (q === -1) return null;
        value += line.slice(i, q);
        if (line.charCodeAt(q + 1) === 0x22) {
          value += '"';
          i = q + 2;
          continue;
        }
        i = q + 1;
        break;
      }
      cells.push(restore(value));
      if (i === n) return cells;
      if (line.charCodeAt(i) !== 0x2c) return null;
      i++;
    } else {
      const comma = line.indexOf(',', i);
      const end = comma === -1 ? n : comma;
      const value = line.slice(i, end);
      if (value.indexOf('"') !== -1) return null;
      cells.push(restore(value));
      if (comma === -1) return cells;
      i = comma + 1;
    }
  }
}
