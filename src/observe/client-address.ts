// Who the client is, for the access log. Over the Unix socket the peer can only be the proxy its
// permissions let in (nginx), so its X-Real-IP / X-Forwarded-For are believed; over TCP they are
// believed only from a peer in TRUST_PROXY, since anyone who can reach the port can send them.
import type { ConnInfo } from "../types.ts";
import type { TrustedNet } from "../config.ts";
import { ipVersion } from "../ip.ts";

export type ClientAddress = (headers: Headers, conn: ConnInfo) => string | null;

/** A TCP peer on a dual-stack [::] listener shows IPv4 clients as ::ffff:a.b.c.d. */
function unmapIPv4(address: string): string {
  return address.startsWith("::ffff:") && ipVersion(address.slice(7)) === 4 ? address.slice(7) : address;
}

/** What the proxy says: X-Real-IP, else the right-most X-Forwarded-For entry (the one it added). */
function forwardedFor(headers: Headers): string | undefined {
  const real = headers.get("x-real-ip");
  const claimed = real ?? headers.get("x-forwarded-for")?.split(",").at(-1);
  const address = claimed?.trim();
  // Anything but an address (a port, "unknown", garbage) is ignored rather than logged.
  return address !== undefined && ipVersion(address) !== 0 ? unmapIPv4(address) : undefined;
}

/** Whether a TCP peer is one of the trusted proxies. */
async function proxyMatcher(trusted: readonly TrustedNet[]): Promise<(address: string) => boolean> {
  if (trusted.length === 0) return () => false;
  // node:net only when there is a list to match against: it costs Bun a megabyte at every start.
  const { BlockList } = await import("node:net");
  const proxies = new BlockList();
  for (const net of trusted) proxies.addSubnet(net.address, net.prefix, net.family);
  return (address) => {
    const family = ipVersion(address);
    return family !== 0 && proxies.check(address, family === 4 ? "ipv4" : "ipv6");
  };
}

export async function clientAddress(trusted: readonly TrustedNet[]): Promise<ClientAddress> {
  const isProxy = await proxyMatcher(trusted);

  return (headers, conn) => {
    if (conn.transport === "unix") return forwardedFor(headers) ?? null;
    const peer = conn.remoteAddress === undefined ? undefined : unmapIPv4(conn.remoteAddress);
    if (peer === undefined) return null;
    if (isProxy(peer)) return forwardedFor(headers) ?? peer;
    return peer;
  };
}
