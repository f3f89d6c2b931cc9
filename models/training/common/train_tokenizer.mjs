// Train Kestrel's code tokenizer: byte-level BPE, Hugging Face tokenizer.json format.
//
//   node models/training/train_tokenizer.mjs [--vocab 16384] [--max-mb 48] [--out PATH]
//
// Reads work/corpus/train.jsonl (train split only) and writes work/tokenizer.json.
//
// Why this shape:
// - The trainer (npm `tokenizers`, native) reads its input files line by line, so a newline and
//   the indentation after it would never meet inside one training sequence and "\n" + indent
//   merges would never be learned. Each document is therefore written on ONE line with "\n" and
//   "\v" swapped (both are whitespace to the pre-tokenizer regex, so pre-tokenization is
//   unchanged), and the two byte symbols are swapped back in the learned vocabulary and merges.
//   The result is exactly the BPE of the original text.
// - The trainer's defaults learn ~30k merges; the ordered merge list is cut to the first N so
//   that specials + 256 byte symbols + N merges = --vocab. Every byte symbol is in the vocabulary,
//   so any UTF-8 text round-trips exactly.
// - Runs of spaces and newline+indent runs become single tokens through the GPT-2 regex's
//   `\s+(?!\S)` branch: indentation is cheap.
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Tokenizer, BPE, byteLevelPreTokenizer, byteLevelAlphabet } from 'tokenizers';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const args = Object.fromEntries(process.argv.slice(2).join(' ').split('--').filter(Boolean)
  .map((s) => s.trim().split(/\s+/)).map(([k, v]) => [k, v ?? 'true']));
const VOCAB = Number(args.vocab ?? 16384);
const MAX_BYTES = Number(args['max-mb'] ?? 48) * 1e6;
const WORK = process.env.KESTREL_WORK ? path.resolve(process.env.KESTREL_WORK) : path.join(HERE, '..', 'work');
const OUT = args.out ?? path.join(WORK, 'tokenizer.json');
export const SPECIAL = ['<|endoftext|>', '<fim_prefix>', '<fim_middle>', '<fim_suffix>'];

const t0 = Date.now();
fs.mkdirSync(path.join(WORK, 'tok'), { recursive: true });
const input = path.join(WORK, 'tok', 'train-one-doc-per-line.txt');
{
  // seeded shuffle of documents, so a byte cap samples every package rather than the first few
  const lines = [];
  const rl = readline.createInterface({ input: fs.createReadStream(path.join(WORK, 'corpus', 'train.jsonl')) });
  for await (const line of rl) lines.push(line);
  let seed = 1;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  for (let i = lines.length - 1; i > 0; i--) { const j = Math.floor(rand() * (i + 1)); [lines[i], lines[j]] = [lines[j], lines[i]]; }
  const out = fs.openSync(input, 'w');
  let bytes = 0, docs = 0;
  for (const line of lines) {
    const text = JSON.parse(line).text.replace(/[\n\v]/g, (c) => (c === '\n' ? '\v' : '\n'));
    fs.writeSync(out, text + '\n');
    bytes += Buffer.byteLength(text);
    docs++;
    if (bytes > MAX_BYTES) break;
  }
  fs.closeSync(out);
  console.log(`training text: ${docs} documents, ${(bytes / 1e6).toFixed(1)} MB`);
}

const tok = new Tokenizer(BPE.empty());
tok.setPreTokenizer(byteLevelPreTokenizer(false, true));
tok.train([input]);
const raw = path.join(WORK, 'tok', 'full.json');
tok.save(raw);
const full = JSON.parse(fs.readFileSync(raw, 'utf8'));
console.log(`trained ${full.model.merges.length} merges in ${((Date.now() - t0) / 1000).toFixed(0)} s`);

// swap the byte-level symbols of "\n" (U+010A) and "\v" (U+010B) back
const NL = '\u010a', VT = '\u010b';
const unswap = (s) => s.replace(/[\u010a\u010b]/g, (c) => (c === NL ? VT : NL));
const merges = full.model.merges.map((m) => (Array.isArray(m) ? m : m.split(' ')).map(unswap));

// vocabulary: specials, the 256 byte symbols, then merge results in merge order
const vocab = Object.create(null); // no prototype: "constructor" is a real token here
let next = 0;
for (const s of SPECIAL) vocab[s] = next++;
for (const b of byteLevelAlphabet().sort()) vocab[b] = next++;
const kept = [];
for (const [a, b] of merges) {
  if (next >= VOCAB) break;
  if (!(a in vocab) || !(b in vocab)) throw new Error(`merge ${a} ${b} uses an unknown symbol`);
  kept.push([a, b]);
  if (!((a + b) in vocab)) vocab[a + b] = next++;
}
const json = {
  version: '1.0',
  truncation: null,
  padding: null,
  added_tokens: SPECIAL.map((content, id) => ({
    id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true,
  })),
  normalizer: null,
  pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
  post_processor: null,
  decoder: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
  model: {
    type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null,
    end_of_word_suffix: null, fuse_unk: false, byte_fallback: false, ignore_merges: false,
    vocab, merges: kept,
  },
};
fs.writeFileSync(OUT, JSON.stringify(json));
console.log(`wrote ${OUT}: vocab ${next} (${SPECIAL.length} special + 256 bytes + ${kept.length} merges), ` +
  `${((Date.now() - t0) / 1000).toFixed(0)} s total`);
