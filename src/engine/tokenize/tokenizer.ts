/**
 * Kestrel's tokenizer: @huggingface/tokenizers over the model's tokenizer.json, with exact round
 * trip (no clean-up, specials kept) and incremental encoding. Text is encoded piece by piece at
 * stable cuts (see chunks.ts) and each piece's ids are cached, so a keystroke re-encodes only the
 * line it touched, never the whole prefix.
 */
import { readFileSync } from 'node:fs';
import { Tokenizer } from '@huggingface/tokenizers';
import { EngineError } from '../errors';
import type { SpecialTokens } from '../registry/manifest';
import { splitStable } from './chunks';

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
        this.pieces.set(piece, ids);
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

  /** Exact inverse of encode: special tokens kept, no clean-up of spaces. */
  decode(ids: readonly number[]): string {
    if (ids.length === 0) return '';
    return this.tokenizer.decode([...ids], { skip_special_tokens: false, clean_up_tokenization_spaces: false });
  }
}
