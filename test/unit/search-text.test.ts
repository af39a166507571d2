import Database from 'better-sqlite3';
import fc from 'fast-check';
import { afterAll, expect, test } from 'vitest';
import { documentPatterns, fts5Query, MAX_DOCUMENT_CHARS, parseSearchQuery, searchDocument, searchWords } from '../../src/util/search-text.js';

// The table the migration builds, in memory: the same tokenizer, the same query syntax.
const sqlite = new Database(':memory:');
sqlite.exec(`create virtual table docs using fts5(doc, tokenize='unicode61 remove_diacritics 0')`);
const insert = sqlite.prepare<[number, string]>('insert into docs(rowid, doc) values (?, ?)');
const search = sqlite.prepare<[string], { rowid: number }>('select rowid from docs where docs match ? order by rowid');
afterAll(() => sqlite.close());

/** Pieces that words are made of: accents, ligatures, digits, CJK, punctuation, odd spacing. */
const piece = fc.constantFrom(
  'inv', 'invoice', 'Invoice', 'INVOICES', 'Résumé', 'resume', 'naïve', 'Ærø', 'ß', 'İstanbul', 'ﬁle', '2026', '114', '1.21', '½',
  '履歴書', 'Ωmega', 'łódź', 'Łódź', 'x', 'a', '-', '_', '"', "'", '*', '(', ')', ':', 'AND', 'OR', 'NOT', 'NEAR', '^', '+', '%', '\\', ' ', '  ', '\t', '\n',
);
const text = fc.array(piece, { maxLength: 12 }).map((parts) => parts.join(''));

test('P31 a search document holds the words of its text, lower case and without diacritics', () => {
  expect(searchWords('Résumé: Invoice #2026-114, naïve ﬁle')).toEqual(['resume', 'invoice', '2026', '114', 'naive', 'file']);
  expect(searchDocument(['Cannot sign in', 'Łódź office'])).toBe(' cannot sign in łodz office ');
  expect(searchDocument([])).toBe(' ');
  expect(searchDocument(['word '.repeat(MAX_DOCUMENT_CHARS)]).length).toBeLessThanOrEqual(MAX_DOCUMENT_CHARS);
  expect(parseSearchQuery('  -- !! ')).toBeNull();
  expect(fts5Query(parseSearchQuery('AND "x" 2026-114 inv')!)).toBe('"and" AND "x" AND "2026 114" AND "inv"*');
});

test('P31 the FTS5 index and the ticket-by-ticket check find the same documents for any query, and no query is an FTS5 syntax error', () => {
  fc.assert(fc.property(fc.array(text, { minLength: 1, maxLength: 6 }), text, (texts, q) => {
    sqlite.exec('delete from docs');
    const docs = texts.map((t) => searchDocument([t]));
    docs.forEach((doc, k) => insert.run(k + 1, doc));
    const query = parseSearchQuery(q);
    if (query === null) return;
    const byIndex = search.all(fts5Query(query)).map((r) => r.rowid);
    const patterns = documentPatterns(query);
    const byCheck = docs.flatMap((doc, k) => (patterns.every((p) => doc.includes(p)) ? [k + 1] : []));
    expect(byIndex).toEqual(byCheck);
  }), { numRuns: 3000 });
});

test('P31 every word of a text finds it, whole or by its beginning', () => {
  fc.assert(fc.property(text, (t) => {
    const doc = searchDocument([t]);
    for (const word of searchWords(t)) {
      for (const q of [word, word.slice(0, Math.max(1, Math.ceil(word.length / 2)))]) {
        const query = parseSearchQuery(q)!;
        expect(documentPatterns(query).every((p) => doc.includes(p)), `${q} in ${doc}`).toBe(true);
      }
    }
  }), { numRuns: 2000 });
});
