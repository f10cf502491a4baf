#!/usr/bin/env bash
# Runs the test suite (or the tests a filter selects) several times and prints, per test, how often it passed
# and failed — the tool for finding flaky tests before they reach CI.
#
#   scripts/flake-hunt.sh [--runs N] [--stress] [FILTER]
#
#   --runs N    how many runs (default 5)
#   --stress    keep one core busy with `stress-ng --cpu 1` during the runs (installed with apt-get when missing),
#               like a CI machine with a noisy neighbour
#   FILTER      a `dotnet test --filter` expression, e.g. 'FullyQualifiedName~RetrySupervisionTests'
#               (default: every test)
#
# Services (RabbitMQ, PostgreSQL) are started once for all runs, as ./test.sh does. Each run's TRX file is kept in
# the directory printed at the end. Exit code: 0 when every test passed in every run, 1 otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."

runs=5
stress=0
filter=""
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs="${2:?--runs needs a number}"; shift 2 ;;
    --runs=*) runs="${1#--runs=}"; shift ;;
    --stress) stress=1; shift ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    -*) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
    *) filter="$1"; shift ;;
  esac
done
case "$runs" in ''|*[!0-9]*|0) echo "--runs must be a positive whole number (was '$runs')" >&2; exit 2 ;; esac

. scripts/services.sh
results=$(mktemp -d /tmp/o2x-flake-hunt.XXXXXX)
stress_pid=""
cleanup() {
  [ -n "$stress_pid" ] && kill "$stress_pid" 2>/dev/null
  o2x_services_stop
}
trap cleanup EXIT

o2x_services_install
if [ "$stress" = 1 ] && ! command -v stress-ng >/dev/null 2>&1; then
  [ "$(id -u)" = 0 ] || { echo "stress-ng is missing: apt-get install stress-ng (as root)" >&2; exit 1; }
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends stress-ng >/dev/null
fi
o2x_services_start

dotnet build O2X.sln -nologo -v q > "$results/build.log" 2>&1 || { tail -n 30 "$results/build.log" >&2; exit 1; }
if [ "$stress" = 1 ]; then
  stress-ng --cpu 1 --timeout 0 --quiet &
  stress_pid=$!
  echo "stress-ng --cpu 1 running (pid $stress_pid)"
fi

args=(--no-build --blame-hang-timeout 10m)
[ -n "$filter" ] && args+=(--filter "$filter")
for run in $(seq 1 "$runs"); do
  started=$(date +%s)
  status=passed
  dotnet test O2X.sln "${args[@]}" --logger "trx;LogFilePrefix=run$run" --results-directory "$results/run$run" \
    > "$results/run$run.log" 2>&1 || status=failed
  echo "run $run/$runs: $status in $(( $(date +%s) - started )) s"
done

# One line per test and outcome from every TRX file, then a count per test.
echo
find "$results" -name '*.trx' -print0 \
  | xargs -0 grep -ho '<UnitTestResult [^>]*' \
  | sed -n 's/.*testName="\([^"]*\)".*outcome="\([^"]*\)".*/\1\t\2/p' \
  | awk -F'\t' '
      { if ($2 == "Passed") pass[$1]++; else fail[$1]++; seen[$1] = 1 }
      END {
        for (t in seen) printf "%-8d %-8d %s\n", pass[t], fail[t], t
      }' \
  | sort -k2,2nr -k3 > "$results/summary.txt"
flaky=$(awk '$2 > 0' "$results/summary.txt" | wc -l)
if [ "$flaky" -gt 0 ]; then
  printf '%-8s %-8s %s\n' passed failed test
  awk '$2 > 0' "$results/summary.txt"
fi
echo "$(wc -l < "$results/summary.txt") tests, $flaky failed at least once over $runs runs (all: $results/summary.txt; logs and TRX files: $results)"
[ "$flaky" = 0 ]
