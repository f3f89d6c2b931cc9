// Tokenize the corpus into the flat token files the training scripts read, with the native BPE of
// npm `tokenizers` (Rust, the same library Hugging Face's Python `tokenizers` wraps).
//
//   node models/training/common/tokenize_corpus.mjs [--tokenizer models/kestrel-py-tiny/tokenizer.json]
//
// Reads WORK/corpus/{valid,train}.jsonl (WORK: $KESTREL_WORK or models/training/work) and writes
// WORK/data/{split}.bin (uint16 token ids, documents back to back, no separators) and
// WORK/data/{split}.idx (int64 document start offsets, plus the total length at the end), then
// WORK/data/summary.json (files, bytes, tokens per split, the tokenizer's sha256). End-of-text
// separators and fill-in-the-middle are applied at batch time (completion/data.py), so one
// tokenization serves every FIM setting.
//
// Ids equal the Python recipe's (common/tokenizer.py; test/unit/tokenizer.test.ts checks the JS
// side against its fixture). Documents go to the encoder in batches (encodeBatch runs them on the
// library's own thread pool) and are written as they come, so memory stays flat.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Tokenizer } from 'tokenizers';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const argv = process.argv.slice(2);
const option = (name, fallback) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] ? argv[i + 1] : fallback;
};
const WORK = process.env.KESTREL_WORK ? path.resolve(process.env.KESTREL_WORK) : path.join(HERE, '..', 'work');
const TOKENIZER = path.resolve(option('tokenizer', path.join(HERE, '..', '..', 'kestrel-py-tiny', 'tokenizer.json')));
const BATCH = 256;

const tokenizer = Tokenizer.fromFile(TOKENIZER);
const vocab = tokenizer.getVocabSize(true);
if (vocab > 65536) throw new Error(`vocabulary of ${vocab} ids does not fit uint16 token files`);

async function tokenizeSplit(split) {
  const source = path.join(WORK, 'corpus', `${split}.jsonl`);
  const outPrefix = path.join(WORK, 'data', split);
  fs.mkdirSync(path.dirname(outPrefix), { recursive: true });
  const bin = fs.openSync(`${outPrefix}.bin.tmp`, 'w');
  const starts = [0];
  let files = 0;
  let bytes = 0;
  let batch = [];
  let pending = Promise.resolve();
  const t0 = Date.now();
  // one batch encodes on the library's threads while the next one is read and parsed
  const flush = async () => {
    if (batch.length === 0) return;
    const encoding = tokenizer.encodeBatch(batch, false);
    batch = [];
    await pending;
    pending = encoding.then((encodings) => {
      for (const enc of encodings) {
        const ids = enc.getIds();
        fs.writeSync(bin, Buffer.from(Uint16Array.from(ids).buffer));
        starts.push(starts.at(-1) + ids.length);
      }
    });
  };
  const lines = readline.createInterface({ input: fs.createReadStream(source), crlfDelay: Infinity });
  for await (const line of lines) {
    if (!line) continue;
    const { text } = JSON.parse(line);
    batch.push(text);
    files += 1;
    bytes += Buffer.byteLength(text);
    if (batch.length === BATCH) await flush();
    if (files % 10000 === 0) {
      console.log(`  ${split}: ${files} files, ${(starts.at(-1) / 1e6).toFixed(1)}M tokens, ${((Date.now() - t0) / 1000).toFixed(0)}s`);
    }
  }
  await flush();
  await pending;
  fs.closeSync(bin);
  fs.writeFileSync(`${outPrefix}.idx.tmp`, Buffer.from(BigInt64Array.from(starts.map(BigInt)).buffer));
  // renamed last, .idx after .bin: a reader that finds both finds a complete pair
  fs.renameSync(`${outPrefix}.bin.tmp`, `${outPrefix}.bin`);
  fs.renameSync(`${outPrefix}.idx.tmp`, `${outPrefix}.idx`);
  const tokens = starts.at(-1);
  const seconds = (Date.now() - t0) / 1000;
  console.log(`${split}: ${files} files, ${(bytes / 1e6).toFixed(1)} MB -> ${tokens.toLocaleString('en')} tokens ` +
    `(${(bytes / Math.max(1, tokens)).toFixed(2)} bytes/token) in ${seconds.toFixed(0)} s`);
  return { files, bytes, tokens, seconds: Math.round(seconds) };
}

const summary = {
  tokenizer: path.relative(path.join(HERE, '..', '..', '..'), TOKENIZER),
  tokenizerSha256: crypto.createHash('sha256').update(fs.readFileSync(TOKENIZER)).digest('hex'),
  vocabSize: vocab,
};
for (const split of ['valid', 'train']) summary[split] = await tokenizeSplit(split);
const corpusSummary = path.join(WORK, 'corpus', 'summary.json');
if (fs.existsSync(corpusSummary)) summary.manifestSha256 = JSON.parse(fs.readFileSync(corpusSummary, 'utf8')).manifest_sha256;
fs.writeFileSync(path.join(WORK, 'data', 'summary.json'), JSON.stringify(summary, null, 1));
