// FNV-1a (32 bits) of a string's UTF-8 bytes, as 8 hex digits: the short stable names (content-hashed
// asset names, the private bind directory) need no cryptographic hash, and SHA-256 by WebCrypto was
// 0.7 MB of the binary's idle memory (docs/benchmarks.md). scripts/deno-run computes it in sh.
// Written out rather than a package: the npm ones compute in BigInt, which costs Bun more to load.
export function fnv1a(text: string): string {
  let hash = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(text)) hash = Math.imul(hash ^ byte, 0x01000193) >>> 0;
  return hash.toString(16).padStart(8, "0");
}
