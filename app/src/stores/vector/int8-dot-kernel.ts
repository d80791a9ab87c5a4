// The inner loop of the in-process index as a WebAssembly SIMD function: dot products of one int8
// query with `count` int8 vectors, 16 lanes at a time (i16x8 widening, then i32x4.dot_i16x8_s).
// A scan of 100,000 × 384-dim vectors reads 38 MB as int8 instead of 154 MB as float32, and does
// 16 multiply-adds per instruction instead of one: several times faster than the JavaScript loop,
// with no native module (WebAssembly SIMD is in every Node since 16.4).
//
// The module is small enough to keep as bytes, annotated with its text form. It imports its memory,
// so every collection gets its own instance over its own growable memory.
//
// (func (export "scan") (param $v i32) (param $n i32) (param $stride i32) (param $q i32) (param $out i32)
//   for each of $n vectors at $v (every $stride bytes, a multiple of 16): store
//   Σ int8(v[d]) · int8(q[d]) for d < $stride as i32 at $out, then $out += 4)

const bytes = [
  ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00], // \0asm, version 1
  // type section: (func (param i32 i32 i32 i32 i32))
  ...[0x01, 0x09, 0x01, 0x60, 0x05, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x00],
  // import section: (import "env" "memory" (memory 1))
  ...[
    0x02, 0x0f, 0x01, 0x03, 0x65, 0x6e, 0x76, 0x06, 0x6d, 0x65, 0x6d, 0x6f, 0x72, 0x79, 0x02, 0x00,
    0x01,
  ],
  // function section: one function of type 0
  ...[0x03, 0x02, 0x01, 0x00],
  // export section: (export "scan" (func 0))
  ...[0x07, 0x08, 0x01, 0x04, 0x73, 0x63, 0x61, 0x6e, 0x00, 0x00],
];

// Locals: params $v=0 $n=1 $stride=2 $q=3 $out=4, then $d=5 (i32), $acc=6 $a=7 $b=8 (v128).
const body = [
  ...[0x02, 0x01, 0x7f, 0x03, 0x7b], // locals: 1 × i32, 3 × v128
  ...[0x02, 0x40], // block $done
  ...[0x03, 0x40], //   loop $vec
  ...[0x20, 0x01, 0x45, 0x0d, 0x01], //     br_if $done (i32.eqz $n)
  ...[0x41, 0x00, 0xfd, 0x11, 0x21, 0x06], //     $acc = i32x4.splat 0
  ...[0x41, 0x00, 0x21, 0x05], //     $d = 0
  ...[0x03, 0x40], //     loop $dim
  ...[0x20, 0x00, 0x20, 0x05, 0x6a, 0xfd, 0x00, 0x00, 0x00, 0x21, 0x07], // $a = v128.load ($v + $d)
  ...[0x20, 0x03, 0x20, 0x05, 0x6a, 0xfd, 0x00, 0x00, 0x00, 0x21, 0x08], // $b = v128.load ($q + $d)
  ...[0x20, 0x06], //       $acc
  ...[0x20, 0x07, 0xfd, 0x87, 0x01, 0x20, 0x08, 0xfd, 0x87, 0x01], // low halves widened to i16x8
  ...[0xfd, 0xba, 0x01, 0xfd, 0xae, 0x01], //       i32x4.dot_i16x8_s, i32x4.add
  ...[0x20, 0x07, 0xfd, 0x88, 0x01, 0x20, 0x08, 0xfd, 0x88, 0x01], // high halves widened
  ...[0xfd, 0xba, 0x01, 0xfd, 0xae, 0x01, 0x21, 0x06], //       dot, add, → $acc
  ...[0x20, 0x05, 0x41, 0x10, 0x6a, 0x22, 0x05], //       $d += 16
  ...[0x20, 0x02, 0x49, 0x0d, 0x00], //       br_if $dim ($d < $stride)
  0x0b, //     end
  ...[0x20, 0x04], //     store at $out: the four lanes of $acc summed
  ...[0x20, 0x06, 0xfd, 0x1b, 0x00],
  ...[0x20, 0x06, 0xfd, 0x1b, 0x01, 0x6a],
  ...[0x20, 0x06, 0xfd, 0x1b, 0x02, 0x6a],
  ...[0x20, 0x06, 0xfd, 0x1b, 0x03, 0x6a],
  ...[0x36, 0x02, 0x00], //     i32.store
  ...[0x20, 0x04, 0x41, 0x04, 0x6a, 0x21, 0x04], //     $out += 4
  ...[0x20, 0x00, 0x20, 0x02, 0x6a, 0x21, 0x00], //     $v += $stride
  ...[0x20, 0x01, 0x41, 0x01, 0x6b, 0x21, 0x01], //     $n -= 1
  ...[0x0c, 0x00], //     br $vec
  0x0b, //   end
  0x0b, // end
  0x0b, // end of function
];

function leb128(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

const functionBody = [...leb128(body.length), ...body];
const codeSection = [0x01, ...functionBody];
const moduleBytes = new Uint8Array([...bytes, 0x0a, ...leb128(codeSection.length), ...codeSection]);

// The slice of the WebAssembly JS API used here. The project's type libraries (ES2022, Node 20
// types) do not declare the WebAssembly global, though every Node runtime has it.
export interface KernelMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WebAssemblyApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
  Memory: new (descriptor: { initial: number }) => KernelMemory;
}
const wasm = (globalThis as unknown as { WebAssembly?: WebAssemblyApi }).WebAssembly;

/** Bytes per WebAssembly memory page. */
export const kernelPageBytes = 65536;

let compiled: object | null | undefined;

/** The compiled module, or null where WebAssembly SIMD is unavailable (the caller scans in JS). */
function kernelModule(): object | null {
  if (compiled === undefined) {
    compiled = wasm?.validate(moduleBytes) ? new wasm.Module(moduleBytes) : null;
  }
  return compiled;
}

export type ScanFunction = (
  vectors: number,
  count: number,
  stride: number,
  query: number,
  out: number,
) => void;

/**
 * A growable memory of at least `bytes` with a kernel instance over it, or undefined without
 * WebAssembly SIMD.
 */
export function createInt8Kernel(
  bytes: number,
): { memory: KernelMemory; scan: ScanFunction } | undefined {
  const module = kernelModule();
  if (!module || !wasm) return undefined;
  const memory = new wasm.Memory({ initial: Math.max(1, Math.ceil(bytes / kernelPageBytes)) });
  const instance = new wasm.Instance(module, { env: { memory } });
  return { memory, scan: instance.exports.scan as ScanFunction };
}
