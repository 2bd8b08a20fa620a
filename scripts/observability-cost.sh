#!/usr/bin/env bash
# What the access log and the metrics cost: requests/s for GET /fact over loopback TCP, measured
# with wrk (Debian package wrk) for
#   base  the binary built from $BASE (default main), before logs and metrics existed
#   off   this tree's binary, LOG_LEVEL=off: metrics and the log middleware, but no log lines
#   text  this tree's binary, LOG_FORMAT=text (the default)
#   json  this tree's binary, LOG_FORMAT=json
# The access log goes to a file, as it would to journald's pipe. Runs are interleaved (ROUNDS
# rounds of the four) so that a noisy neighbour hurts all of them alike; the median of each is
# printed with its ratio to base. Bounded: ROUNDS x 4 runs of RUN_SECONDS, to 127.0.0.1 only.
#   scripts/observability-cost.sh                       # 3 rounds of 5 s each, 32 connections
#   ROUNDS=5 RUN_SECONDS=10 CONNECTIONS=64 scripts/observability-cost.sh
set -euo pipefail
cd "$(dirname "$0")/.."
BASE=${BASE:-main}
ROUNDS=${ROUNDS:-3}
RUN_SECONDS=${RUN_SECONDS:-5}
CONNECTIONS=${CONNECTIONS:-32}
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 1; }

tmp=$(mktemp -d)
pid=
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

mkdir "$tmp/base"
git archive "$BASE" | tar -x -C "$tmp/base"
ln -s "$PWD/node_modules" "$tmp/base/node_modules"
(cd "$tmp/base" && npm run -s build >/dev/null)
npm run -s build >/dev/null

# One run: start the binary on a free port, load it, stop it; prints requests/s.
run() {
  local name=$1 binary=$2
  shift 2
  local port
  port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
  env -i PATH="$PATH" PORT="$port" HOST=127.0.0.1 "$@" "$binary" >>"$tmp/$name.log" 2>/dev/null &
  pid=$!
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.05; done
  wrk -t1 -c"$CONNECTIONS" -d"${RUN_SECONDS}s" "http://127.0.0.1:$port/fact" | awk '/^Requests\/sec/ { print $2 }'
  kill -TERM "$pid"
  wait "$pid" || true
  pid=
}

declare -A results
for _ in $(seq "$ROUNDS"); do
  results[base]+="$(run base "$tmp/base/dist/printerfacts") "
  results[off]+="$(run off dist/printerfacts LOG_LEVEL=off) "
  results[text]+="$(run text dist/printerfacts LOG_FORMAT=text) "
  results[json]+="$(run json dist/printerfacts LOG_FORMAT=json) "
done

median() { tr ' ' '\n' | grep . | sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
base=$(echo "${results[base]}" | median)
echo "GET /fact, wrk -t1 -c$CONNECTIONS, ${RUN_SECONDS}s x $ROUNDS rounds, median requests/s (all runs), ratio to base"
for name in base off text json; do
  m=$(echo "${results[$name]}" | median)
  awk -v n="$name" -v m="$m" -v b="$base" -v all="${results[$name]% }" 'BEGIN { printf "%-5s %10.0f  %5.3f   (%s)\n", n, m, m / b, all }'
done
echo "access log lines written in the text runs: $(wc -l <"$tmp/text.log")"
