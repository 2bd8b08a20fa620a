// Which IP version an address is, by valibot's patterns: node:net (isIP) costs Bun about a
// megabyte and 2 ms at every start, and here it was needed only for this. The two agree on every
// form nginx sends; valibot refuses a few rare ones isIP takes (the six-group form with a dotted
// IPv4 tail, 1:2:3:4:5:6:1.2.3.4, and zone ids with '-', '.' or ':'), which are then not
// addresses here: such a TRUST_PROXY entry is a config error, such a forwarded address is not logged.
import * as v from "valibot";

const Ipv4 = v.pipe(v.string(), v.ipv4());
const Ipv6 = v.pipe(v.string(), v.ipv6());

/** 4 or 6 for an IPv4 or IPv6 address (an IPv6 one may carry a zone, fe80::1%eth0), else 0. */
export function ipVersion(address: string): 0 | 4 | 6 {
  if (v.is(Ipv4, address)) return 4;
  return v.is(Ipv6, address) ? 6 : 0;
}
