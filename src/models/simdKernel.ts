// The HMM's inner product, y = x A (a row vector times a square matrix), as a tiny WebAssembly SIMD function:
// per call the HMM filter needs states^2 multiply-adds, which V8's scalar code runs at about 1 ns each; two-lane
// f64x2 vectors roughly halve that. The module is assembled here from its bytes (no build step, no dependency);
// its text form is below. Lanes multiply and then add, each rounded, summing rows in increasing order exactly as
// the scalar loop `s += x[i] * A[i][j]` does, so the kernel's results are bit-identical to the JS fallback used
// where WebAssembly SIMD is unavailable.
//
// (func $vecmat (param $x i32) (param $a i32) (param $y i32) (param $n i32) (param $blocks i32)
//   ;; A: $n rows of $blocks * 8 doubles (zero padded) at byte offset $a; x: $n doubles; y: $blocks * 8 doubles.
//   rowBytes = blocks * 64; jb = 0
//   loop: s0..s3 = 0; ap = a + jb * 64; xp = x; i = n
//     loop: f = f64x2.splat(f64.load xp); s_k += f * v128.load(ap + 16k) for k < 4; ap += rowBytes; xp += 8
//           br_if (--i != 0)
//     v128.store(y + jb * 64 + 16k, s_k); br_if (++jb < blocks))
//
// Callers guarantee n >= 1, blocks >= 1 and 16-byte aligned offsets.

interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}

interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports?: object) => { exports: Record<string, unknown> };
}

const wasmApi = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

function section(id: number, body: number[]): number[] {
  return [id, ...uleb(body.length), ...body];
}

const LOCAL_GET = 0x20;
const LOCAL_SET = 0x21;
const LOCAL_TEE = 0x22;
const I32_CONST = 0x41;
const I32_ADD = 0x6a;
const I32_SUB = 0x6b;
const I32_MUL = 0x6c;
const I32_LT_U = 0x49;
const F64_CONST = 0x44;
const F64_LOAD = 0x2b;
const LOOP = 0x03;
const BR_IF = 0x0d;
const END = 0x0b;
const VOID = 0x40;
const SIMD = 0xfd;
const V128_LOAD = [SIMD, 0x00];
const V128_STORE = [SIMD, 0x0b];
const F64X2_SPLAT = [SIMD, 0x14];
const F64X2_ADD = [SIMD, 0xf0, 0x01];
const F64X2_MUL = [SIMD, 0xf2, 0x01];

// Parameters 0..4: x, a, y, n, blocks. Locals: 5 jb, 6 i, 7 ap, 8 xp, 9 rowBytes, 10 yp, 11 f, 12..15 s0..s3.
function vecmatBody(): number[] {
  const code: number[] = [];
  const emit = (...xs: (number | number[])[]) => {
    for (const x of xs) {
      if (typeof x === "number") code.push(x);
      else code.push(...x);
    }
  };
  const i32c64 = [I32_CONST, 0xc0, 0x00]; // signed LEB of 64
  emit(LOCAL_GET, 4, i32c64, I32_MUL, LOCAL_SET, 9);
  emit(I32_CONST, 0, LOCAL_SET, 5);
  emit(LOOP, VOID);
  emit(F64_CONST, [0, 0, 0, 0, 0, 0, 0, 0], F64X2_SPLAT, LOCAL_TEE, 12, LOCAL_TEE, 13, LOCAL_TEE, 14, LOCAL_SET, 15);
  emit(LOCAL_GET, 1, LOCAL_GET, 5, i32c64, I32_MUL, I32_ADD, LOCAL_SET, 7);
  emit(LOCAL_GET, 0, LOCAL_SET, 8);
  emit(LOCAL_GET, 3, LOCAL_SET, 6);
  emit(LOOP, VOID);
  emit(LOCAL_GET, 8, F64_LOAD, 3, 0, F64X2_SPLAT, LOCAL_SET, 11);
  for (let k = 0; k < 4; k++) {
    emit(LOCAL_GET, 12 + k, LOCAL_GET, 11, LOCAL_GET, 7, V128_LOAD, 4, 16 * k, F64X2_MUL, F64X2_ADD, LOCAL_SET, 12 + k);
  }
  emit(LOCAL_GET, 7, LOCAL_GET, 9, I32_ADD, LOCAL_SET, 7);
  emit(LOCAL_GET, 8, I32_CONST, 8, I32_ADD, LOCAL_SET, 8);
  emit(LOCAL_GET, 6, I32_CONST, 1, I32_SUB, LOCAL_TEE, 6, BR_IF, 0);
  emit(END);
  emit(LOCAL_GET, 2, LOCAL_GET, 5, i32c64, I32_MUL, I32_ADD, LOCAL_SET, 10);
  for (let k = 0; k < 4; k++) emit(LOCAL_GET, 10, LOCAL_GET, 12 + k, V128_STORE, 4, 16 * k);
  emit(LOCAL_GET, 5, I32_CONST, 1, I32_ADD, LOCAL_TEE, 5, LOCAL_GET, 4, I32_LT_U, BR_IF, 0);
  emit(END);
  emit(END);
  const locals = [2, 6, 0x7f, 5, 0x7b]; // 6 i32, 5 v128
  return [...uleb(locals.length + code.length), ...locals, ...code];
}

function moduleBytes(): Uint8Array {
  const name = (s: string) => [...uleb(s.length), ...Array.from(s, (c) => c.charCodeAt(0))];
  const bytes = [
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    ...section(1, [1, 0x60, 5, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0]),
    ...section(3, [1, 0]),
    ...section(5, [1, 0x00, 1]),
    ...section(7, [2, ...name("vecmat"), 0x00, 0, ...name("mem"), 0x02, 0]),
    ...section(10, [1, ...vecmatBody()]),
  ];
  return Uint8Array.from(bytes);
}

let compiled: object | null | undefined;
let enabled = true;

/** Turns the kernel off (createVecMatKernel returns null) or back on; for tests of the JS fallback. */
export function setSimdKernelEnabled(on: boolean): void {
  enabled = on;
}

function simdModule(): object | null {
  if (compiled !== undefined) return compiled;
  compiled = null;
  try {
    const bytes = moduleBytes();
    if (wasmApi?.validate(bytes)) compiled = new wasmApi.Module(bytes);
  } catch {
    compiled = null;
  }
  return compiled;
}

/** Rounds a number of states up to the kernel's 8-double blocks. */
export function paddedStride(n: number): number {
  return Math.ceil(n / 8) * 8;
}

export interface VecMatKernel {
  /** The whole kernel memory. */
  readonly f64: Float64Array;
  /** y = x A for x of n doubles at byte offset x, A of n rows of blocks * 8 doubles at a, y of blocks * 8 at y. */
  vecmat(x: number, a: number, y: number, n: number, blocks: number): void;
}

/**
 * One kernel instance with its own memory of at least `bytes` bytes (views made of it stay valid: it never grows
 * again). Returns null where WebAssembly SIMD is unavailable.
 */
export function createVecMatKernel(bytes: number): VecMatKernel | null {
  const mod = enabled ? simdModule() : null;
  if (mod === null || wasmApi === undefined) return null;
  const instance = new wasmApi.Instance(mod, {});
  const memory = instance.exports.mem as WasmMemory;
  const vecmat = instance.exports.vecmat as (x: number, a: number, y: number, n: number, blocks: number) => void;
  const pages = Math.ceil(bytes / 65_536);
  const have = memory.buffer.byteLength / 65_536;
  if (pages > have) memory.grow(pages - have);
  return { f64: new Float64Array(memory.buffer), vecmat };
}
