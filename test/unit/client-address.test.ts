// client-address.ts in process: whose word the access log takes for the client's address.
import { expect, test } from "bun:test";
import { clientAddress } from "../../src/observe/client-address.ts";

const UNIX = { transport: "unix" } as const;
const tcp = (remoteAddress: string) => ({ transport: "tcp", remoteAddress }) as const;
const h = (headers: Record<string, string> = {}) => new Headers(headers);

test("over the Unix socket: X-Real-IP, else the right-most X-Forwarded-For, else null; a non-address is ignored", async () => {
  const client = await clientAddress([]);
  expect(client(h({ "X-Real-IP": "203.0.113.7", "X-Forwarded-For": "198.51.100.1" }), UNIX)).toBe("203.0.113.7");
  expect(client(h({ "X-Real-IP": "2001:db8::7" }), UNIX)).toBe("2001:db8::7");
  expect(client(h({ "X-Forwarded-For": "10.9.9.9, 198.51.100.23" }), UNIX)).toBe("198.51.100.23");
  expect(client(h(), UNIX)).toBeNull();
  expect(client(h({ "X-Real-IP": 'evil" client=1.2.3.4' }), UNIX)).toBeNull();
  expect(client(h({ "X-Real-IP": "::ffff:192.0.2.5" }), UNIX)).toBe("192.0.2.5");
});

test("over TCP without TRUST_PROXY: the peer itself, whatever the headers say", async () => {
  const client = await clientAddress([]);
  expect(client(h({ "X-Real-IP": "203.0.113.7" }), tcp("::ffff:127.0.0.1"))).toBe("127.0.0.1");
  expect(client(h({ "X-Forwarded-For": "203.0.113.8" }), tcp("::1"))).toBe("::1");
  expect(client(h(), { transport: "tcp" })).toBeNull();
});

test("over TCP with TRUST_PROXY: a listed peer's headers are believed, anyone else's ignored", async () => {
  const client = await clientAddress([
    { address: "127.0.0.0", prefix: 8, family: "ipv4" },
    { address: "192.0.2.1", prefix: 32, family: "ipv4" },
  ]);
  expect(client(h({ "X-Real-IP": "203.0.113.7" }), tcp("127.0.0.1"))).toBe("203.0.113.7");
  expect(client(h({ "X-Forwarded-For": "10.1.1.1, 203.0.113.9" }), tcp("::ffff:127.0.0.1"))).toBe("203.0.113.9");
  expect(client(h(), tcp("127.0.0.1"))).toBe("127.0.0.1");
  expect(client(h({ "X-Real-IP": "203.0.113.7" }), tcp("::1"))).toBe("::1");
  expect(client(h({ "X-Real-IP": "203.0.113.7" }), tcp("192.0.2.2"))).toBe("192.0.2.2");
});
