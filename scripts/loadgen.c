// loadgen: a small closed-loop HTTP/1.1 keep-alive load client for the benchmarks.
//
// Why not an existing one: wrk cannot connect to a Unix socket, and autocannon (JavaScript)
// saturates near 50k requests/s on a 2-core machine, below what the servers under test reach.
// This one is a single-threaded epoll loop: N connections, one request in flight on each
// (no pipelining), over a Unix socket or TCP. It reports its own CPU time, so a run can show
// that the client was not the bottleneck.
//
//   loadgen (-u SOCKPATH | -t HOST:PORT) [-c CONNS] [-d SECONDS | -n REQUESTS] [-p PATH] [-H 'K: V']...
//   loadgen (-u SOCKPATH | -t HOST:PORT) [-p PATH] --startup -- COMMAND [ARGS]...
//
// The first form drives load and prints one JSON object. The second starts COMMAND, polls until
// the first complete response to PATH, prints {"startup_ms": ...}, then stops COMMAND (SIGTERM).
// Built by scripts/bench.ts with the machine's cc; Linux only (epoll).
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BUF_SIZE 65536
// A run with no response and no new connection for this long gives up (the server is gone).
#define STALL_NS (5ull * 1000000000ull)
// Latency histogram: 1 us bins up to 100 ms, then 1 ms bins up to 60 s. Exact enough for p99.
#define FINE_BINS 100000
#define COARSE_BINS 60000

static struct sockaddr_storage target_addr;
static socklen_t target_len;
static int target_family;
static const char *target_text;

static char request[8192];
static size_t request_len;

static uint64_t fine[FINE_BINS];
static uint64_t coarse[COARSE_BINS];
static uint64_t lat_max_us;

static uint64_t completed, ok2xx, non2xx, read_errors, connect_errors, parse_errors;

struct conn {
  int fd;
  int connected;
  size_t len;        // bytes in buf
  size_t sent;       // bytes of request written
  uint64_t start_ns; // when the current request was first written
  char buf[BUF_SIZE];
};

static void die(const char *msg) {
  fprintf(stderr, "loadgen: %s\n", msg);
  exit(2);
}

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static double cpu_seconds(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static void record_latency(uint64_t ns) {
  uint64_t us = ns / 1000;
  if (us > lat_max_us) lat_max_us = us;
  if (us < FINE_BINS) fine[us]++;
  else {
    uint64_t ms = us / 1000;
    coarse[ms < COARSE_BINS ? ms : COARSE_BINS - 1]++;
  }
}

static double percentile_us(double p) {
  uint64_t total = 0;
  for (int i = 0; i < FINE_BINS; i++) total += fine[i];
  for (int i = 0; i < COARSE_BINS; i++) total += coarse[i];
  if (total == 0) return 0;
  uint64_t rank = (uint64_t)(p * (double)total);
  if (rank >= total) rank = total - 1;
  uint64_t seen = 0;
  for (int i = 0; i < FINE_BINS; i++) {
    seen += fine[i];
    if (seen > rank) return i;
  }
  for (int i = 0; i < COARSE_BINS; i++) {
    seen += coarse[i];
    if (seen > rank) return (double)i * 1000;
  }
  return (double)lat_max_us;
}

static void parse_target_unix(const char *path) {
  struct sockaddr_un *sun = (struct sockaddr_un *)&target_addr;
  if (strlen(path) >= sizeof sun->sun_path) die("socket path too long");
  memset(sun, 0, sizeof *sun);
  sun->sun_family = AF_UNIX;
  strcpy(sun->sun_path, path);
  target_len = sizeof *sun;
  target_family = AF_UNIX;
  target_text = path;
}

static void parse_target_tcp(const char *hostport) {
  char host[256];
  const char *colon = strrchr(hostport, ':');
  if (!colon || colon == hostport || (size_t)(colon - hostport) >= sizeof host) die("-t wants HOST:PORT");
  size_t n = (size_t)(colon - hostport);
  memcpy(host, hostport, n);
  host[n] = 0;
  if (host[0] == '[' && host[n - 1] == ']') {
    memmove(host, host + 1, n - 2);
    host[n - 2] = 0;
  }
  struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST}, *res;
  if (getaddrinfo(host, colon + 1, &hints, &res) != 0) die("-t wants a numeric loopback address, such as 127.0.0.1:PORT");
  memcpy(&target_addr, res->ai_addr, res->ai_addrlen);
  target_len = res->ai_addrlen;
  target_family = res->ai_family;
  freeaddrinfo(res);
  target_text = hostport;
}

static int open_conn(int nonblocking) {
  int fd = socket(target_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  if (connect(fd, (struct sockaddr *)&target_addr, target_len) != 0) {
    close(fd);
    return -1;
  }
  if (target_family != AF_UNIX) {
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  if (nonblocking) fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  return fd;
}

// Parses one response at the start of buf. Returns its total length, 0 if incomplete, -1 if
// malformed. Sets *status and *close_after.
static long parse_response(const char *buf, size_t len, int *status, int *close_after) {
  const char *end = memmem(buf, len, "\r\n\r\n", 4);
  if (!end) return len >= BUF_SIZE ? -1 : 0;
  size_t head_len = (size_t)(end - buf) + 4;
  if (len < 12 || memcmp(buf, "HTTP/1.", 7) != 0) return -1;
  *status = atoi(buf + 9);
  long content_length = -1;
  int chunked = 0;
  *close_after = 0;
  const char *line = memchr(buf, '\n', head_len) + 1;
  while (line < end) {
    const char *eol = memchr(line, '\n', (size_t)(end + 2 - line));
    if (!eol) break;
    if (strncasecmp(line, "content-length:", 15) == 0) content_length = strtol(line + 15, NULL, 10);
    else if (strncasecmp(line, "transfer-encoding:", 18) == 0 && memmem(line, (size_t)(eol - line), "chunked", 7)) chunked = 1;
    else if (strncasecmp(line, "connection:", 11) == 0 && memmem(line, (size_t)(eol - line), "close", 5)) *close_after = 1;
    line = eol + 1;
  }
  if (chunked) {
    size_t pos = head_len;
    for (;;) {
      const char *crlf = memmem(buf + pos, len - pos, "\r\n", 2);
      if (!crlf) return 0;
      long size = strtol(buf + pos, NULL, 16);
      pos = (size_t)(crlf - buf) + 2;
      if (size == 0) return len >= pos + 2 ? (long)(pos + 2) : 0; // no trailers expected
      if (len < pos + (size_t)size + 2) return len >= BUF_SIZE ? -1 : 0;
      pos += (size_t)size + 2;
    }
  }
  if (content_length < 0) {
    if (*status == 204 || *status == 304) content_length = 0;
    else return -1; // a keep-alive response needs a length
  }
  if (head_len + (size_t)content_length > BUF_SIZE) return -1;
  return len >= head_len + (size_t)content_length ? (long)(head_len + (size_t)content_length) : 0;
}

static int epfd;

static void send_request(struct conn *c) {
  if (c->sent == 0) c->start_ns = now_ns();
  while (c->sent < request_len) {
    ssize_t n = write(c->fd, request + c->sent, request_len - c->sent);
    if (n < 0) {
      if (errno == EAGAIN) {
        struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = c};
        epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
        return;
      }
      return; // the read side sees the error
    }
    c->sent += (size_t)n;
  }
}

static void drop_conn(struct conn *c) {
  if (c->fd >= 0) {
    epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
  }
  c->fd = -1;
  c->connected = 0;
  c->len = 0;
  c->sent = 0;
}

static int start_conn(struct conn *c) {
  c->fd = open_conn(1);
  if (c->fd < 0) {
    connect_errors++;
    return -1;
  }
  c->connected = 1;
  c->len = 0;
  c->sent = 0;
  struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
  epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev);
  return 0;
}

static int run_load(int nconns, double seconds, uint64_t max_requests) {
  struct conn *conns = calloc((size_t)nconns, sizeof *conns);
  if (!conns) die("out of memory");
  epfd = epoll_create1(EPOLL_CLOEXEC);
  uint64_t issued = 0;
  double cpu0 = cpu_seconds();
  uint64_t t0 = now_ns();
  uint64_t deadline = seconds > 0 ? t0 + (uint64_t)(seconds * 1e9) : UINT64_MAX;

  for (int i = 0; i < nconns; i++) {
    conns[i].fd = -1;
    if (max_requests && issued >= max_requests) break;
    if (start_conn(&conns[i]) == 0) {
      issued++;
      send_request(&conns[i]);
    }
  }

  struct epoll_event events[256];
  uint64_t last_progress = t0, seen = 0;
  for (;;) {
    uint64_t t = now_ns();
    if (t >= deadline) break;
    if (max_requests && completed >= max_requests) break;
    if (completed != seen) seen = completed, last_progress = t;
    else if (t - last_progress > STALL_NS) {
      fprintf(stderr, "loadgen: no response for %llu s; giving up\n", STALL_NS / 1000000000ull);
      break;
    }
    int timeout_ms = deadline == UINT64_MAX ? 100 : (int)((deadline - t) / 1000000) + 1;
    if (timeout_ms > 100) timeout_ms = 100;
    int n = epoll_wait(epfd, events, 256, timeout_ms);
    for (int i = 0; i < n; i++) {
      struct conn *c = events[i].data.ptr;
      if (c->fd < 0) continue;
      if ((events[i].events & EPOLLOUT) && c->sent < request_len) {
        send_request(c);
        if (c->sent == request_len) {
          struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
          epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
        }
      }
      if (!(events[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP))) continue;
      ssize_t r = read(c->fd, c->buf + c->len, BUF_SIZE - c->len);
      if (r < 0 && errno == EAGAIN) continue;
      if (r <= 0) {
        read_errors++;
        drop_conn(c);
        continue;
      }
      c->len += (size_t)r;
      for (;;) {
        int status = 0, close_after = 0;
        long used = parse_response(c->buf, c->len, &status, &close_after);
        if (used == 0) break;
        if (used < 0) {
          parse_errors++;
          drop_conn(c);
          break;
        }
        uint64_t done = now_ns();
        completed++;
        if (status >= 200 && status < 300) ok2xx++;
        else non2xx++;
        record_latency(done - c->start_ns);
        memmove(c->buf, c->buf + used, c->len - (size_t)used);
        c->len -= (size_t)used;
        c->sent = 0;
        if (close_after) drop_conn(c);
        if (done >= deadline || (max_requests && issued >= max_requests)) break;
        if (c->fd < 0) break; // reconnected below
        issued++;
        send_request(c);
        break; // one request in flight per connection
      }
    }
    // Reconnect dropped connections (server closed, or a connect failed).
    uint64_t t2 = now_ns();
    for (int i = 0; i < nconns && t2 < deadline; i++) {
      if (conns[i].fd >= 0 || (max_requests && issued >= max_requests)) continue;
      if (start_conn(&conns[i]) == 0) {
        issued++;
        send_request(&conns[i]);
      }
    }
  }

  uint64_t t1 = now_ns();
  double wall = (double)(t1 - t0) / 1e9;
  double cpu = cpu_seconds() - cpu0;
  for (int i = 0; i < nconns; i++) if (conns[i].fd >= 0) close(conns[i].fd);
  uint64_t errors = non2xx + read_errors + connect_errors + parse_errors;
  printf("{\"target\":\"%s\",\"connections\":%d,\"seconds\":%.3f,\"requests\":%llu,\"rps\":%.1f,"
         "\"ok\":%llu,\"non2xx\":%llu,\"read_errors\":%llu,\"connect_errors\":%llu,\"parse_errors\":%llu,\"errors\":%llu,"
         "\"p50_us\":%.0f,\"p90_us\":%.0f,\"p99_us\":%.0f,\"max_us\":%llu,\"cpu_s\":%.3f,\"cpu_share\":%.3f}\n",
         target_text, nconns, wall, (unsigned long long)completed, completed / wall, (unsigned long long)ok2xx,
         (unsigned long long)non2xx, (unsigned long long)read_errors, (unsigned long long)connect_errors,
         (unsigned long long)parse_errors, (unsigned long long)errors, percentile_us(0.50), percentile_us(0.90),
         percentile_us(0.99), (unsigned long long)lat_max_us, cpu, cpu / wall);
  return 0;
}

// One blocking request on a fresh connection; returns the status, or -1.
static int one_request(int fd) {
  static char buf[BUF_SIZE];
  size_t len = 0;
  if (write(fd, request, request_len) != (ssize_t)request_len) return -1;
  for (;;) {
    ssize_t r = read(fd, buf + len, BUF_SIZE - len);
    if (r <= 0) return -1;
    len += (size_t)r;
    int status = 0, close_after = 0;
    long used = parse_response(buf, len, &status, &close_after);
    if (used < 0) return -1;
    if (used > 0) return status;
  }
}

static int run_startup(char **cmd) {
  uint64_t t0 = now_ns();
  pid_t pid = fork();
  if (pid < 0) die("fork failed");
  if (pid == 0) {
    // The server's output (access log, lifecycle lines) is not ours: keep our stdout one JSON line.
    int saved_stderr = fcntl(2, F_DUPFD_CLOEXEC, 3);
    int devnull = open("/dev/null", O_WRONLY);
    if (devnull >= 0) dup2(devnull, 1), dup2(devnull, 2);
    execvp(cmd[0], cmd);
    dprintf(saved_stderr, "loadgen: cannot run %s: %s\n", cmd[0], strerror(errno));
    _exit(127);
  }
  int status = -1;
  uint64_t give_up = t0 + 10ull * 1000000000ull;
  while (now_ns() < give_up) {
    int wstatus;
    if (waitpid(pid, &wstatus, WNOHANG) == pid) die("the server exited before answering");
    int fd = open_conn(0);
    if (fd >= 0) {
      struct timeval tv = {.tv_sec = 5};
      setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      status = one_request(fd);
      close(fd);
      break;
    }
    struct timespec pause = {.tv_nsec = 200000}; // 0.2 ms between tries
    nanosleep(&pause, NULL);
  }
  uint64_t t1 = now_ns();
  kill(pid, SIGTERM);
  for (int i = 0; i < 500; i++) {
    if (waitpid(pid, NULL, WNOHANG) == pid) {
      pid = 0;
      break;
    }
    struct timespec pause = {.tv_nsec = 10000000};
    nanosleep(&pause, NULL);
  }
  if (pid) {
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
  }
  if (status < 0) die("no response from the server within 10 s");
  printf("{\"startup_ms\":%.2f,\"status\":%d}\n", (double)(t1 - t0) / 1e6, status);
  return 0;
}

static void usage(void) {
  fprintf(stderr,
          "usage: loadgen (-u SOCKPATH | -t HOST:PORT) [-c CONNS] [-d SECONDS | -n REQUESTS] [-p PATH] [-H 'K: V']...\n"
          "       loadgen (-u SOCKPATH | -t HOST:PORT) [-p PATH] --startup -- COMMAND [ARGS]...\n");
  exit(64);
}

int main(int argc, char **argv) {
  int nconns = 50;
  double seconds = 0;
  uint64_t max_requests = 0;
  const char *path = "/";
  char extra[4096] = "";
  int startup = 0;
  char **cmd = NULL;
  signal(SIGPIPE, SIG_IGN);
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(a, "--") == 0) {
      cmd = argv + i + 1;
      break;
    } else if (strcmp(a, "--startup") == 0) startup = 1;
    else if (!v) usage();
    else if (strcmp(a, "-u") == 0) parse_target_unix(v), i++;
    else if (strcmp(a, "-t") == 0) parse_target_tcp(v), i++;
    else if (strcmp(a, "-c") == 0) nconns = atoi(v), i++;
    else if (strcmp(a, "-d") == 0) seconds = atof(v), i++;
    else if (strcmp(a, "-n") == 0) max_requests = strtoull(v, NULL, 10), i++;
    else if (strcmp(a, "-p") == 0) path = v, i++;
    else if (strcmp(a, "-H") == 0) {
      if (strlen(extra) + strlen(v) + 3 > sizeof extra) die("too many headers");
      strcat(extra, v);
      strcat(extra, "\r\n");
      i++;
    } else usage();
  }
  if (!target_text || nconns < 1) usage();
  const char *host = target_family == AF_UNIX ? "localhost" : target_text;
  int n = snprintf(request, sizeof request, "GET %s HTTP/1.1\r\nHost: %s\r\n%s\r\n", path, host, extra);
  if (n <= 0 || (size_t)n >= sizeof request) die("request too long");
  request_len = (size_t)n;
  if (startup) {
    if (!cmd || !cmd[0]) usage();
    return run_startup(cmd);
  }
  if (seconds <= 0 && max_requests == 0) seconds = 5;
  return run_load(nconns, seconds, max_requests);
}
