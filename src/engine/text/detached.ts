/**
 * A copy of a string that shares no memory with the string it was cut from. In V8 a slice of a
 * long string keeps the whole original alive, so a cache that keeps a slice of a request (a line
 * of a prompt, the text after the cursor) keeps every version of a 10 MB document that it was cut
 * from, long after the editor closed it. Whatever outlives a request is copied with this.
 */
export function detached(text: string): string {
  return Buffer.from(text, 'utf16le').toString('utf16le');
}
