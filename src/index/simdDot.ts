/**
 * Int8 dot products of one query against every row of a matrix, in WebAssembly SIMD: 16 products
 * per instruction pair instead of one, which is what keeps an exact scan of 100k vectors within
 * the search budget on two cores. The module is 150 bytes, assembled here (no toolchain, no .wasm
 * file to ship); where WebAssembly SIMD is missing, `loadSimdDot` returns undefined and the caller
 * keeps its plain loop.
 *
 * dots(query, rows, count, stride, out): for r < count, out[r] = sum_i query[i] * rows[r*stride + i]
 * (int8 x int8 -> int32; byte offsets into the memory; stride a multiple of 16).
 */

export type DotsFunction = (query: number, rows: number, count: number, stride: number, out: number) => void;

const I32 = 0x7f;
const V128 = 0x7b;

function section(id: number, content: number[]): number[] {
  return [id, ...uleb(content.length), ...content];
}

function uleb(value: number): number[] {
  const out: number[] = [];
  do {
    let byte = value & 0x7f;
    value >>>= 7;
    if (value !== 0) byte |= 0x80;
    out.push(byte);
  } while (value !== 0);
  return out;
}

const get = (i: number): number[] => [0x20, i];
const set = (i: number): number[] => [0x21, i];
const tee = (i: number): number[] => [0x22, i];
const simd = (op: number, ...immediates: number[]): number[] => [0xfd, ...uleb(op), ...immediates];
const I32_ADD = 0x6a;
const V128_LOAD = (): number[] => simd(0x00, 0x00, 0x00);
const EXTMUL_LOW_S = (): number[] => simd(0x9c);
const EXTMUL_HIGH_S = (): number[] => simd(0x9d);
const EXTADD_PAIRWISE_S = (): number[] => simd(0x7e);
const I32X4_ADD = (): number[] => simd(0xae);
const EXTRACT = (lane: number): number[] => simd(0x1b, lane);

function moduleBytes(): Uint8Array<ArrayBuffer> {
  // params: 0 query, 1 row pointer, 2 count, 3 stride, 4 out; locals: 5 end, 6 i, 7 acc, 8 a, 9 b
  const body = [
    ...get(1), ...get(2), ...get(3), 0x6c /* i32.mul */, I32_ADD, ...set(5),
    0x02, 0x40, // block
    ...get(1), ...get(5), 0x4f /* i32.ge_u */, 0x0d, 0x00, // br_if block: nothing to do
    0x03, 0x40, // loop over rows
    ...simd(0x0c, ...new Array<number>(16).fill(0)), ...set(7),
    0x41, 0x00, ...set(6),
    0x03, 0x40, // loop over 16-byte columns
    ...get(0), ...get(6), I32_ADD, ...V128_LOAD(), ...set(8),
    ...get(1), ...get(6), I32_ADD, ...V128_LOAD(), ...set(9),
    ...get(7), ...get(8), ...get(9), ...EXTMUL_LOW_S(), ...EXTADD_PAIRWISE_S(), ...I32X4_ADD(),
    ...get(8), ...get(9), ...EXTMUL_HIGH_S(), ...EXTADD_PAIRWISE_S(), ...I32X4_ADD(), ...set(7),
    ...get(6), 0x41, 0x10, I32_ADD, ...tee(6), ...get(3), 0x49 /* i32.lt_u */, 0x0d, 0x00,
    0x0b, // end column loop
    ...get(4),
    ...get(7), ...EXTRACT(0), ...get(7), ...EXTRACT(1), I32_ADD, ...get(7), ...EXTRACT(2), I32_ADD, ...get(7), ...EXTRACT(3), I32_ADD,
    0x36, 0x02, 0x00, // i32.store
    ...get(4), 0x41, 0x04, I32_ADD, ...set(4),
    ...get(1), ...get(3), I32_ADD, ...tee(1), ...get(5), 0x49, 0x0d, 0x00,
    0x0b, // end row loop
    0x0b, // end block
    0x0b, // end function
  ];
  const locals = [0x02, 0x02, I32, 0x03, V128];
  const code = [...locals, ...body];
  const bytes = [
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [0x01, 0x60, 0x05, I32, I32, I32, I32, I32, 0x00]),
    ...section(2, [0x01, 0x03, 0x65, 0x6e, 0x76, 0x03, 0x6d, 0x65, 0x6d, 0x02, 0x00, 0x01]), // import env.mem
    ...section(3, [0x01, 0x00]),
    ...section(7, [0x01, 0x04, 0x64, 0x6f, 0x74, 0x73, 0x00, 0x00]), // export "dots"
    ...section(10, [0x01, ...uleb(code.length), ...code]),
  ];
  return new Uint8Array(bytes);
}

let compiled: WebAssembly.Module | null | undefined;

/** The dots function over `memory`, or undefined where WebAssembly SIMD is not available. */
export function loadSimdDot(memory: WebAssembly.Memory): DotsFunction | undefined {
  if (compiled === undefined) {
    const bytes = moduleBytes();
    compiled = WebAssembly.validate(bytes) ? new WebAssembly.Module(bytes) : null;
  }
  if (compiled === null) return undefined;
  const instance = new WebAssembly.Instance(compiled, { env: { mem: memory } });
  return instance.exports['dots'] as DotsFunction;
}
