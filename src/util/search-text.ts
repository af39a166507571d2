/**
 * Word search, the same on SQLite and PostgreSQL. Text is reduced here, in one place, to a
 * search document: its words (runs of letters and digits) in lower case without diacritics,
 * each with one space either side. SQLite's FTS5 (unicode61) and PostgreSQL (the migration's
 * portico_search_vector, a tsvector of the words as they are) index exactly these words, and a
 * search for `inv` finds "Invoice", `resume` finds "Résumé", `2026-114` finds the words 2026 and
 * 114 side by side. Changing how text is reduced means rebuilding every document.
 */

/** A search document never grows past this (characters); words after it are not found. */
export const MAX_DOCUMENT_CHARS = 100_000;
/** At most this many words of a query count; the rest are ignored. */
const MAX_QUERY_WORDS = 8;

const WORD = /[\p{L}\p{N}]+/gu;
const MARKS = /\p{M}+/gu;

/** The words of `text`, reduced: lower case, no diacritics. */
export function searchWords(text: string): string[] {
  return text.normalize('NFKD').replace(MARKS, '').toLowerCase().match(WORD) ?? [];
}

/** The search document for some pieces of text (a subject, message bodies). */
export function searchDocument(pieces: readonly string[]): string {
  let doc = ' ';
  for (const piece of pieces) {
    for (const word of searchWords(piece)) {
      if (doc.length + word.length + 1 > MAX_DOCUMENT_CHARS) return doc;
      doc += `${word} `;
    }
  }
  return doc;
}

/**
 * A parsed query: each whitespace-separated term of the query is a phrase of one or more words
 * (`2026-114` is the phrase "2026 114"); every phrase must occur, and the last word of the last
 * phrase may be the start of a longer word, so results follow what is being typed.
 */
export interface SearchQuery {
  phrases: string[][];
}

/** Null when the query holds no letter or digit at all. */
export function parseSearchQuery(query: string): SearchQuery | null {
  const phrases = query.split(/\s+/).map(searchWords).filter((words) => words.length > 0).slice(0, MAX_QUERY_WORDS);
  return phrases.length === 0 ? null : { phrases };
}

/** The query in FTS5 syntax: `"a b" "c"*`. Words hold only letters and digits, so nothing needs escaping. */
export function fts5Query(query: SearchQuery): string {
  return query.phrases.map((words, k) => `"${words.join(' ')}"${k === query.phrases.length - 1 ? '*' : ''}`).join(' AND ');
}

/**
 * The query as a PostgreSQL tsquery literal, `'a' <-> 'b' & 'c':*`, cast with `::tsquery` (not
 * to_tsquery, whose parser would split some words again). Words hold only letters and digits, so
 * quoting them needs no escapes.
 */
export function tsQuery(query: SearchQuery): string {
  return query.phrases.map((words, k) => {
    const last = k === query.phrases.length - 1;
    return words.map((w, j) => (last && j === words.length - 1 ? `'${w}':*` : `'${w}'`)).join(' <-> ');
  }).join(' & ');
}

/**
 * The same query as substrings of a search document, for checking one document at a time: a
 * phrase is found where its words stand side by side, whole, except the last word of the query,
 * which may go on.
 */
export function documentPatterns(query: SearchQuery): string[] {
  return query.phrases.map((words, k) => ` ${words.join(' ')}${k === query.phrases.length - 1 ? '' : ' '}`);
}
