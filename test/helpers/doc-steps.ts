// What the tests that run a page's shell blocks in the throwaway systemd host share: where the
// checkout and the certificate are, and how a block's output is held to the page's text block.

export const DOMAIN = "printerfacts.example.com";
/** The checkout, shown read-only in the host (SystemdHost.share). */
export const CHECKOUT = "/tmp/pf";
export const CERT_DIR = `/etc/letsencrypt/live/${DOMAIN}`;
/** curl trusts the self-signed certificate that stands in for certbot's. */
export const ENV = { CURL_CA_BUNDLE: `${CERT_DIR}/fullchain.pem` };

/** Whether `expected` lines appear in `output`'s lines in order; "…" matches anything. */
export function shows(output: string, expected: string[]): boolean {
  const lines = output.split("\n");
  let i = 0;
  for (const want of expected) {
    const re = new RegExp(
      `^${want
        .split("…")
        .map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))
        .join(".*")}$`,
    );
    while (i < lines.length && !re.test(lines[i])) i++;
    if (i === lines.length) return false;
    i++;
  }
  return true;
}
