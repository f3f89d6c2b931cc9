/**
 * Kestrel's tokenizer: @huggingface/tokenizers over the model's tokenizer.json, with exact round
 * trip (no clean-up, specials kept) and incremental encoding. Text is encoded piece by piece at
 * stable cuts (see chunks.ts) and each piece's ids are cached, so a keystroke re-encodes only the
 * line it touched, never the whole prefix.
 */
import { readFileSync } from 'node:fs';
import { Tokenizer } from '@huggingface/tokenizers';
import { EngineError } from '../../shared/errors/errors';
import type { SpecialTokens } from '../../shared/models/manifest';
import { splitStable } from './chunks';
import { detached } from '../text/detached';

export interface SpecialIds {
  fimPrefix: number;
  fimSuffix: number;
  fimMiddle: number;
  endOfText: number;
}

/** A piece of text and its ids; `start` is its offset in the text that was split. */
export interface EncodedPiece {
  start: number;
  text: string;
  ids: readonly number[];
}

const PIECE_CACHE_LIMIT = 20_000;

export class KestrelTokenizer {
  readonly special: SpecialIds;
  private readonly specialIdSet: Set<number>;
  private readonly pieces = new Map<string, readonly number[]>();
  /** Counters for tests and the benchmark: how much text really went through the BPE. */
  readonly stats = { encodedChars: 0, cachedPieces: 0 };

  constructor(
    private readonly tokenizer: Tokenizer,
    specials: SpecialTokens,
    file = 'tokenizer.json',
  ) {
    const id = (token: string): number => {
      const found = tokenizer.token_to_id(token);
      if (found === undefined) {
        throw new EngineError('model-incompatible', `${file} has no token ${JSON.stringify(token)}, which kestrel.json names as a special token`);
      }
      return found;
    };
    this.special = {
      fimPrefix: id(specials.fimPrefix),
      fimSuffix: id(specials.fimSuffix),
      fimMiddle: id(specials.fimMiddle),
      endOfText: id(specials.endOfText),
    };
    this.specialIdSet = new Set(Object.values(this.special));
  }

  static load(path: string, specials: SpecialTokens): KestrelTokenizer {
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(path, 'utf8'));
    } catch (error) {
      throw new EngineError('model-invalid', `${path} is not a readable tokenizer.json (${error instanceof Error ? error.message : String(error)})`);
    }
    let tokenizer: Tokenizer;
    try {
      tokenizer = new Tokenizer(json as object, {});
    } catch (error) {
      throw new EngineError('model-invalid', `${path} is not a Hugging Face tokenizer.json (${error instanceof Error ? error.message : String(error)})`);
    }
    return new KestrelTokenizer(tokenizer, specials, path);
  }

  isSpecial(id: number): boolean {
    return this.specialIdSet.has(id);
  }

  /** Plain BPE of `text`, uncached. */
  encodeRaw(text: string): number[] {
    if (text.length === 0) return [];
    this.stats.encodedChars += text.length;
    return this.tokenizer.encode(text, { add_special_tokens: false }).ids;
  }

  /** Encodes text as cached pieces cut at stable boundaries; concatenated ids equal `encodeRaw(text)`. */
  encodePieces(text: string): EncodedPiece[] {
    const result: EncodedPiece[] = [];
    let start = 0;
    for (const piece of splitStable(text)) {
      let ids = this.pieces.get(piece);
      if (ids === undefined) {
        ids = this.encodeRaw(piece);
        if (this.pieces.size >= PIECE_CACHE_LIMIT) this.pieces.delete(this.pieces.keys().next().value as string);
        // the key outlives the request: a slice would keep the whole text it was cut from alive
        this.pieces.set(detached(piece), ids);
      } else {
        this.stats.cachedPieces++;
        // refresh recency
        this.pieces.delete(piece);
        this.pieces.set(piece, ids);
      }
      result.push({ start, text: piece, ids });
      start += piece.length;
    }
    return result;
  }

  encode(text: string): number[] {
    return this.encodePieces(text).flatMap((p) => p.ids);
  }

  private index: VocabIndex | null = null;

  /** Every token's text, searchable by prefix (for token healing); built once, on first use (~0.2 s). */
  vocab(): VocabIndex {
    if (!this.index) {
      const size = this.tokenizer.get_vocab(true).size;
      const texts: string[] = new Array(size);
      for (let id = 0; id < size; id++) texts[id] = this.isSpecial(id) ? '' : this.decode([id]);
      this.index = new VocabIndex(texts);
    }
    return this.index;
  }

  /** Exact inverse of encode: special tokens kept, no clean-up of spaces. */
  decode(ids: readonly number[]): string {
    if (ids.length === 0) return '';
    return this.tokenizer.decode([...ids], { skip_special_tokens: false, clean_up_tokenization_spaces: false });
  }
}

/**
 * Token texts sorted for prefix search: which tokens can continue a required text `r` — those whose
 * text starts with `r`, and those that are a proper prefix of `r` (they leave a shorter rest).
 */
export class VocabIndex {
  private readonly sorted: Array<[string, number]>;
  private readonly byText = new Map<string, number[]>();

  constructor(readonly texts: readonly string[]) {
    this.sorted = [];
    texts.forEach((text, id) => {
      if (text.length === 0) return;
      this.sorted.push([text, id]);
      const same = this.byText.get(text);
      if (same) same.push(id);
      else this.byText.set(text, [id]);
    });
    this.sorted.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] - b[1]));
  }

  /** Ids of tokens consistent with having to produce `required` next. */
  consistentWith(required: string): number[] {
    const ids: number[] = [];
    let lo = 0;
    let hi = this.sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((this.sorted[mid] as [string, number])[0] < required) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < this.sorted.length; i++) {
      const [text, id] = this.sorted[i] as [string, number];
      if (!text.startsWith(required)) break;
      ids.push(id);
    }
    for (let k = 1; k < required.length; k++) ids.push(...(this.byText.get(required.slice(0, k)) ?? []));
    return ids;
  }
}
