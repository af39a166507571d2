import fc from 'fast-check';
import { expect, test } from 'vitest';
import { iso } from '../../src/http/common-schemas.js';

test('C9 times are shown exactly as Date#toISOString shows them, for every instant from year 0 to 9999', () => {
  const max = 253_402_300_799_999; // 9999-12-31T23:59:59.999Z
  fc.assert(fc.property(fc.integer({ min: -62_167_219_200_000, max }), (ms) => {
    expect(iso(ms)).toBe(new Date(ms).toISOString());
  }), { numRuns: 20_000 });
  fc.assert(fc.property(fc.integer({ min: 0, max: 4_102_444_800_000 }), (ms) => {
    expect(iso(ms)).toBe(new Date(ms).toISOString());
  }), { numRuns: 20_000 });
  for (const ms of [0, -1, 1, 951_782_400_000, 951_868_799_999, 4_107_542_400_000, max, Date.UTC(2024, 1, 29, 23, 59, 59, 999), Date.UTC(2100, 1, 28)]) {
    expect(iso(ms)).toBe(new Date(ms).toISOString());
  }
  expect(iso(null)).toBeNull();
});
