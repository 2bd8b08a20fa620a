// Every exit code printerfacts has, the service's and `check`'s alike, sysexits.h's where one fits.
// docs/configuration.md and docs/check.md say what each means to an operator. The units restart
// after 70, 75 or a signal, not after 1, 64 or 78 (RestartPreventExitStatus=1 64 78).
export const EXIT = {
  /** The service stopped cleanly after a signal; check: USER can connect and /healthz answered 200. */
  ok: 0,
  /** The service could not start: something on the host must change (SOCKPATH, a port); check: nothing healthy answered. */
  failed: 1,
  /** check: USER may not connect, a directory on the path or the socket itself keeps it out. */
  denied: 2,
  /** Bad arguments (EX_USAGE). */
  usage: 64,
  /** check: USER is not a user on this host (EX_NOUSER). */
  noUser: 67,
  /** An error outside any request (EX_SOFTWARE, fatal.ts). */
  software: 70,
  /**
   * SOCKPATH was removed or replaced while serving (EX_TEMPFAIL): drained, then exited so that
   * Restart=on-failure starts it again, and that start applies every rule of socket.ts afresh.
   */
  socketLost: 75,
  /** check: it may not look at the path itself (EX_NOPERM); run it as root. */
  noPerm: 77,
  /** The environment is not a valid configuration (EX_CONFIG). */
  config: 78,
} as const;
