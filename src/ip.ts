// Which IP version an address is, as node:net's isIP answers, by valibot's patterns: node:net
// costs Bun about a megabyte and 2 ms at every start, and here it was needed only for this.
import * as v from "valibot";

const Ipv4 = v.pipe(v.string(), v.ipv4());
const Ipv6 = v.pipe(v.string(), v.ipv6());

/** 4 or 6 for an IPv4 or IPv6 address (an IPv6 one may carry a zone, fe80::1%eth0), else 0. */
export function ipVersion(address: string): 0 | 4 | 6 {
  if (v.is(Ipv4, address)) return 4;
  return v.is(Ipv6, address) ? 6 : 0;
}
