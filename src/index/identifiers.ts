/**
 * Identifier-aware terms for BM25. FTS5's unicode61 tokenizer sees `parseHttpRequest` as one token
 * and a query for "http request" would miss it, so both the indexed text and the query are
 * rewritten first: every identifier becomes its lower-cased parts (snake_case and camelCase split,
 * acronyms kept whole: `parseHTTPRequest` -> parse http request) followed by the whole identifier
 * joined (`parsehttprequest`), which rewards exact-name matches.
 */

const IDENTIFIER = /[\p{L}_$][\p{L}\p{N}_$]*|\p{N}+/gu;

/** Parts of one identifier, lower-cased, in order: `getHTTPResponse2_code` -> get http response2 code. */
export function identifierParts(identifier: string): string[] {
  return identifier
    .split(/[_$]+/)
    .flatMap((piece) => piece.match(/\p{Lu}+(?!\p{Ll})|\p{Lu}?\p{Ll}+\p{N}*|\p{N}+|\p{Lu}+/gu) ?? [])
    .map((part) => part.toLowerCase());
}

/** Terms of a text: each identifier's parts, then the whole identifier when it has several. */
export function identifierTerms(text: string): string[] {
  const terms: string[] = [];
  for (const match of text.matchAll(IDENTIFIER)) {
    const parts = identifierParts(match[0]);
    terms.push(...parts);
    if (parts.length > 1) terms.push(parts.join(''));
  }
  return terms;
}

/** Indexed form of a text: its terms joined by spaces (what the FTS5 columns hold). */
export function termText(text: string): string {
  return identifierTerms(text).join(' ');
}

/** The distinct terms of a query, at most `limit` (long pasted selections stay cheap). */
export function queryTerms(query: string, limit = 48): string[] {
  return [...new Set(identifierTerms(query))].filter((t) => t.length > 1 || /\p{N}/u.test(t)).slice(0, limit);
}
