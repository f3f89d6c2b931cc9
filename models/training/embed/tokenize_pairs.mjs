// Token ids of the text fields of a pairs file (embed_pairs.py's JSON lines), with the native BPE of
// npm `tokenizers` (the pure-Python tokenizer of common/tokenizer.py runs 1-2 MB/s; this one tens).
// embed_data.tokenize_file runs it when node is available and reads what it writes:
//
//   node models/training/embed/tokenize_pairs.mjs --input PAIRS.jsonl --fields query,code \
//       --tokenizer models/kestrel-py-tiny/tokenizer.json --out PREFIX
//
// writes PREFIX.FIELD.bin (uint16 ids, texts back to back) and PREFIX.FIELD.idx (int64 start offsets
// and the total at the end) per field. No special tokens are added: the type markers are prepended
// at batch time. Ids equal common/tokenizer.py's (test/unit/tokenizer.test.ts checks the JS side).
import fs from 'node:fs';
import readline from 'node:readline';
import { Tokenizer } from 'tokenizers';

const argv = process.argv.slice(2);
const option = (name) => {
  const i = argv.indexOf(`--${name}`);
  if (i < 0 || !argv[i + 1]) throw new Error(`--${name} is required`);
  return argv[i + 1];
};
const fields = option('fields').split(',');
const tokenizer = Tokenizer.fromFile(option('tokenizer'));
const out = option('out');
const BATCH = 512;

const bins = Object.fromEntries(fields.map((f) => [f, fs.openSync(`${out}.${f}.bin.tmp`, 'w')]));
const starts = Object.fromEntries(fields.map((f) => [f, [0]]));
let rows = [];
const flush = async () => {
  for (const f of fields) {
    const encodings = await tokenizer.encodeBatch(rows.map((r) => r[f]), false);
    for (const enc of encodings) {
      const ids = enc.getIds();
      fs.writeSync(bins[f], Buffer.from(Uint16Array.from(ids).buffer));
      starts[f].push(starts[f].at(-1) + ids.length);
    }
  }
  rows = [];
};
const lines = readline.createInterface({ input: fs.createReadStream(option('input')), crlfDelay: Infinity });
for await (const line of lines) {
  if (!line.trim()) continue;
  rows.push(JSON.parse(line));
  if (rows.length === BATCH) await flush();
}
await flush();
for (const f of fields) {
  fs.closeSync(bins[f]);
  fs.writeFileSync(`${out}.${f}.idx.tmp`, Buffer.from(BigInt64Array.from(starts[f].map(BigInt)).buffer));
  fs.renameSync(`${out}.${f}.bin.tmp`, `${out}.${f}.bin`);
  fs.renameSync(`${out}.${f}.idx.tmp`, `${out}.${f}.idx`);
}
console.log(`${starts[fields[0]].length - 1} records tokenized (${fields.join(', ')})`);
