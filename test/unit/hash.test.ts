// hash.ts: FNV-1a (32 bits) as published, over UTF-8 bytes.
import { expect, test } from "bun:test";
import { fnv1a } from "../../src/hash.ts";

test("FNV-1a's published test vectors, as 8 hex digits", () => {
  // From the FNV reference test suite (isthe.com/chongo/src/fnv/test_fnv.c).
  expect(fnv1a("")).toBe("811c9dc5");
  expect(fnv1a("a")).toBe("e40c292c");
  expect(fnv1a("foobar")).toBe("bf9cf968");
});

test("hashes the UTF-8 bytes of a string (é is C3 A9), not its UTF-16 units", () => {
  // python3 -c 'h=0x811c9dc5; [h := ((h ^ b) * 16777619) % 2**32 for b in "é".encode()]; print("%08x" % h)'
  expect(fnv1a("é")).toBe("1e9de8c1");
});
