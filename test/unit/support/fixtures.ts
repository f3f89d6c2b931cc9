/**
 * Small artefacts built in code for engine tests that are about mechanics, not model quality:
 * a byte-level BPE tokenizer.json with a handful of merges, and minimal ONNX graphs (hand-encoded
 * protobuf) to test provider fallback and graph validation. Neither is a Kestrel model.
 */
export const SPECIALS = ['<|endoftext|>', '<fim_prefix>', '<fim_middle>', '<fim_suffix>'];

/** GPT-2's byte -> printable character table (ByteLevel). */
function byteSymbols(): string[] {
  const bs: number[] = [];
  for (let b = 33; b <= 126; b++) bs.push(b);
  for (let b = 161; b <= 172; b++) bs.push(b);
  for (let b = 174; b <= 255; b++) bs.push(b);
  const cs = [...bs];
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!bs.includes(b)) {
      bs.push(b);
      cs.push(256 + n++);
    }
  }
  const table: string[] = new Array(256);
  bs.forEach((b, i) => (table[b] = String.fromCharCode(cs[i] as number)));
  return table;
}

export function byteLevelTokenizerJson(): object {
  const symbols = byteSymbols();
  const vocab: Record<string, number> = Object.create(null);
  let next = 0;
  for (const s of SPECIALS) vocab[s] = next++;
  for (const s of [...symbols].sort()) vocab[s] = next++;
  const merges: Array<[string, string]> = [
    ['Ġ', 'Ġ'], ['ĠĠ', 'ĠĠ'], ['Ċ', 'ĠĠĠĠ'], ['d', 'e'], ['de', 'f'], ['Ġ', 'def'], ['r', 'e'], ['t', 'u'],
    ['re', 'tu'], ['retu', 'r'], ['retur', 'n'], ['Ġ', 'return'], ['s', 'e'], ['l', 'f'], ['se', 'lf'], ['(', 'self'],
    ['ĠĠĠĠ', 'ĠĠĠĠ'], ['Ċ', 'ĠĠĠĠĠĠĠĠ'], ['Ġ', '='], ['Ċ', 'Ċ'],
  ];
  for (const [a, b] of merges) if (!((a + b) in vocab)) vocab[a + b] = next++;
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: SPECIALS.map((content, id) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: null,
    decoder: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: false, byte_fallback: false, ignore_merges: false, vocab, merges },
  };
}

// --- minimal protobuf writer for ONNX ModelProto ---
function varint(value: number): number[] {
  const out: number[] = [];
  let v = value;
  while (v > 127) {
    out.push((v & 127) | 128);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return out;
}
const field = (num: number, wire: number): number[] => varint((num << 3) | wire);
const bytesField = (num: number, payload: number[]): number[] => [...field(num, 2), ...varint(payload.length), ...payload];
const stringField = (num: number, s: string): number[] => bytesField(num, [...Buffer.from(s, 'utf8')]);
const intField = (num: number, v: number): number[] => [...field(num, 0), ...varint(v)];

/** A float tensor value with the given dims (numbers are fixed, strings symbolic). */
function valueInfo(name: string, dims: Array<number | string>): number[] {
  const shape = dims.flatMap((d) => bytesField(1, typeof d === 'number' ? intField(1, d) : stringField(2, d)));
  const tensorType = [...intField(1, 1), ...bytesField(2, shape)];
  return [...stringField(1, name), ...bytesField(2, bytesField(1, tensorType))];
}

/** A graph of Identity nodes: each input name maps to an output name. */
export function identityOnnx(pairs: Array<[string, string]>, dims: Array<number | string> = ['n']): Uint8Array {
  const graph: number[] = [];
  pairs.forEach(([input, output], i) => {
    graph.push(...bytesField(1, [...stringField(1, input), ...stringField(2, output), ...stringField(3, `id${i}`), ...stringField(4, 'Identity')]));
  });
  graph.push(...stringField(2, 'test'));
  for (const [input] of pairs) graph.push(...bytesField(11, valueInfo(input, dims)));
  for (const [, output] of pairs) graph.push(...bytesField(12, valueInfo(output, dims)));
  const model = [...intField(1, 8), ...bytesField(8, [...stringField(1, ''), ...intField(2, 14)]), ...bytesField(7, graph)];
  return Uint8Array.from(model);
}
