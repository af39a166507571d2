import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { mergeKeyset, type SortSpec } from '../../src/http/pagination.js';

interface Row { id: number; sortValue: number }
const keyOf = (r: Row) => ({ value: r.sortValue, id: r.id });
const spec = (direction: 'asc' | 'desc'): SortSpec => ({ name: 'x', column: 'a.x', idColumn: 'a.id', direction });
const inOrder = (direction: 'asc' | 'desc') => (a: Row, b: Row) => (direction === 'asc' ? 1 : -1) * (a.sortValue - b.sortValue || a.id - b.id);

describe('merging keyset lists', () => {
  test('P19 P31 two sorted lists merge into the first rows of their union, in order, each id once', () => {
    // A ticket's sort value is the same in every list it is in, as the association tables copy it.
    const tickets = fc.uniqueArray(fc.record({ id: fc.integer({ min: 1, max: 500 }), sortValue: fc.integer({ min: 0, max: 20 }) }), { selector: (r) => r.id, maxLength: 60 });
    fc.assert(fc.property(tickets, fc.array(fc.boolean(), { maxLength: 60 }), fc.array(fc.boolean(), { maxLength: 60 }), fc.constantFrom<'asc' | 'desc'>('asc', 'desc'), fc.integer({ min: 1, max: 70 }),
      (all, inA, inB, direction, take) => {
        const a = all.filter((_, i) => inA[i] === true).sort(inOrder(direction));
        const b = all.filter((_, i) => inB[i] === true || inA[i] !== true).sort(inOrder(direction));
        const union = [...all].sort(inOrder(direction));
        // Each list as a query with a limit of `take` gives it.
        expect(mergeKeyset([a.slice(0, take), b.slice(0, take)], spec(direction), keyOf, take)).toEqual(union.slice(0, take));
      }), { numRuns: 500 });
  });

  test('P31 an empty list leaves the other as it is', () => {
    const rows = [{ id: 3, sortValue: 9 }, { id: 2, sortValue: 9 }, { id: 7, sortValue: 4 }];
    expect(mergeKeyset([[], rows], spec('desc'), keyOf, 3)).toEqual(rows);
    expect(mergeKeyset([rows, []], spec('desc'), keyOf, 2)).toEqual(rows.slice(0, 2));
    expect(mergeKeyset([[], []], spec('asc'), keyOf, 2)).toEqual([]);
  });
});
