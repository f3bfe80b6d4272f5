/** Cells of a data set (drift's inputs, training data, demo batches), checked one by one, with messages naming the file, line and column. */

import { InputError } from '../errors.js';
import { featureNumberExpectation } from '../stats/number.js';

function got(text: string): string {
  return text === '' ? 'an empty value' : JSON.stringify(text.length > 60 ? `${text.slice(0, 57)}...` : text);
}

export function numberError(file: string, line: number, column: string, text: string): InputError {
  return new InputError(`${file}: line ${line}, column ${JSON.stringify(column)}: expected ${featureNumberExpectation(text)}, got ${got(text)}`);
}

export function categoryError(file: string, line: number, column: string): InputError {
  return new InputError(`${file}: line ${line}, column ${JSON.stringify(column)}: expected a category, got an empty value`);
}

/** Header positions of `names`, or an InputError naming the first one missing (and what the header has). */
export function columnIndices(file: string, header: readonly string[], names: readonly string[]): number[] {
  return names.map((name) => {
    const index = header.indexOf(name);
    if (index === -1) {
      throw new InputError(`${file}: missing column ${JSON.stringify(name)} (found ${header.filter((h) => h !== '').join(', ') || 'no header'})`);
    }
    if (header.indexOf(name, index + 1) !== -1) throw new InputError(`${file}: column ${JSON.stringify(name)} appears twice in the header`);
    return index;
  });
}

/** `slots[headerIndex] = slot` for the wanted columns, -1 for the rest. */
export function slotsFor(width: number, indices: readonly (number | null)[]): number[] {
  const slots = new Array<number>(width).fill(-1);
  indices.forEach((index, slot) => {
    if (index !== null) slots[index] = slot;
  });
  return slots;
}
