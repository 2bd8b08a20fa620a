// FNV-1a (32 bits) of a string's UTF-8 bytes, as 8 hex digits: the short stable names (content-hashed
// asset names, the private bind directory) need no cryptographic hash, and SHA-256 by WebCrypto cost
// the idle binary ~0.85 MiB (docs/benchmarks.md). scripts/deno-run computes the same in sh.
// Written out: @sindresorhus/fnv1a computes in BigInt, and loading BigInt code costs Bun memory too.
export function fnv1a(text: string): string {
  let hash = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(text)) hash = Math.imul(hash ^ byte, 0x01000193) >>> 0;
  return hash.toString(16).padStart(8, "0");
}
