#!/usr/bin/env bash
# Runs the benchmarks of docs/benchmarks.md: builds Release, starts a durable PostgreSQL (fsync on) and
# RabbitMQ like ./test.sh does, runs each scenario (each prints its baseline, measured in the same run,
# and the ratio), stops the services, and appends the tables to docs/benchmarks.md with date, commit and
# machine (BENCH_RECORD=0 to only print). Usage: bench/run.sh [scenario ...]
# Scenarios: orders-http orders-rabbitmq orders-amqp10 orders-kafka connectors mediation rating bulk billing (the default
# set); soak (BENCH_SOAK_MINUTES, default 60), chaos (BENCH_CHAOS_SCALE, default 20) and orders-cluster (two node
# processes on one PostgreSQL database, the outbox in the journal against the projection) only when named.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/services.sh
o2x_services_install
trap o2x_services_stop EXIT
o2x_services_start durable

dotnet build -c Release src/O2X.Host >/dev/null
dotnet build -c Release bench/O2X.Bench >/dev/null
bench() { dotnet bench/O2X.Bench/bin/Release/net10.0/O2X.Bench.dll "$@"; }

out=$(mktemp)
machine="$(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(. /etc/os-release; echo "$PRETTY_NAME"), .NET $(dotnet --version)"
commit="$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src bench || echo '+uncommitted')"
broker_header() {
  echo "| transport | store | orders | prefetch | concurrency | orders/s (consume → entities → journal → ack) | CPU (of all cores) | peak memory | raw consume+ack msg/s (same run) | ratio | journal writer (timed orders; o2x_journal_*) |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|"
}
scenarios=("${@:-orders-http orders-rabbitmq orders-amqp10 orders-kafka connectors mediation rating bulk billing}")
# shellcheck disable=SC2206
scenarios=(${scenarios[*]})
{
echo "machine: $machine; commit $commit; $(date -u +%Y-%m-%dT%H:%MZ)"
for scenario in "${scenarios[@]}"; do
  echo
  echo "#### $scenario"
  echo
  case "$scenario" in
    orders|orders-http)
      echo "| store | orders | concurrency | orders/s | p50 ms | p95 ms | p99 ms | node CPU (of all cores) | node peak memory | the rest of the cores (load generator, database server, idle) | ceiling (fastest plain write of the same rows, same run) | ratio | outbox at the last 202: orderings behind, time to catch up | journal writer (timed orders; o2x_journal_*) |"
      echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
      # 20,000 warm-up orders: with 2,000 the runtime was still compiling hot methods again at tier 1 during the measured
      # orders (16% of the node's CPU on the tiered-compilation thread), which measured the warm-up, not the node.
      bench orders-http --store sqlite --orders 20000 --warmup 20000 --concurrency 64
      bench orders-http --store postgres --orders 20000 --warmup 20000 --concurrency 64
      # The workload before 2026-12-04 (an account's three orders sent together, so they wait for each other), for comparison.
      bench orders-http --store sqlite --orders 20000 --warmup 20000 --concurrency 64 --account-stride 1
      ;;
    orders-cluster)
      echo "| nodes | O2X__Outbox__InJournal | orders | concurrency | orders/s | p50 ms | p99 ms | journal writers (timed orders; o2x_journal_*) |"
      echo "|---|---|---|---|---|---|---|---|"
      bench orders-cluster --nodes 2
      O2X__Outbox__InJournal=false bench orders-cluster --nodes 2
      ;;
    oms-rabbitmq|orders-rabbitmq)
      # The node as a process of its own, as in orders-http (its CPU and memory alone), so the two compare like for like.
      broker_header
      bench orders-rabbitmq --store sqlite --orders 20000 --warmup 20000 --node process
      bench orders-rabbitmq --store postgres --orders 20000 --warmup 20000 --node process
      ;;
    orders-amqp10)
      broker_header
      bench orders-amqp10 --store sqlite --orders 10000
      bench orders-amqp10 --store postgres --orders 10000
      ;;
    orders-kafka)
      broker_header
      bench orders-kafka --store sqlite --orders 10000
      bench orders-kafka --store postgres --orders 10000
      ;;
    connectors)
      echo "| transport | what | messages | connector msg/s | raw client loop msg/s (same run) | ratio |"
      echo "|---|---|---|---|---|---|"
      for transport in amqp091 amqp10 kafka stomp; do bench connectors --transport "$transport" --messages 20000; done
      ;;
    mediation)
      echo "| store | CDRs | file | elapsed | CDRs/s | baseline (raw INSERT of the parsed rows, same run) rows/s | ratio |"
      echo "|---|---|---|---|---|---|---|"
      bench mediation --store sqlite --rows 150000
      bench mediation --store postgres --rows 150000
      bench mediation --store sqlite --rows 1000000 --memory
      ;;
    rating)
      echo "| what | records | throughput | baseline (same run) | ratio |"
      echo "|---|---|---|---|---|"
      bench rating --records 100000 --accounts 500
      ;;
    bulk)
      echo "| store | items | elapsed (POST /api/bulk → COMPLETED) | items/s | CPU (of all cores) | peak memory | baseline (raw batched INSERT of the items' events) rows/s | ratio |"
      echo "|---|---|---|---|---|---|---|---|"
      bench bulk --store sqlite --items 10000 --accounts 100
      bench bulk --store postgres --items 10000 --accounts 100
      ;;
    billing)
      echo "| store | accounts × rated records | run (entities recovered from the journal) | accounts/s | memory over the run (at 2 s → end) | ceiling (plain INSERT/UPDATE of the same rows, same run) | ratio |"
      echo "|---|---|---|---|---|---|---|"
      bench billing --store sqlite --accounts "${BENCH_BILLING_ACCOUNTS:-100000}" --pdfs 2000
      bench billing --store postgres --accounts "${BENCH_BILLING_ACCOUNTS:-100000}" --pdfs 0
      ;;
    soak)
      bench soak --store sqlite --minutes "${BENCH_SOAK_MINUTES:-60}"
      ;;
    chaos)
      # The chaos tests of ./test.sh at full scale (O2X_CHAOS_SCALE × their load): their timeline and verdict lines.
      echo '```'
      O2X_CHAOS_SCALE="${BENCH_CHAOS_SCALE:-20}" dotnet test tests/O2X.IntegrationTests -c Release --filter "FullyQualifiedName~ChaosTests" \
        --logger "console;verbosity=detailed" 2>&1 | grep -E '^\s+[0-9]+\.[0-9] s  |^\s+(Passed|Failed) O2X' || true
      echo '```'
      ;;
    *) echo "unknown scenario $scenario" >&2; exit 2 ;;
  esac
done
} | tee "$out"

if [ "${BENCH_RECORD:-1}" != 0 ]; then
  # Tables, timelines and verdicts only: an in-process node's log lines also reach standard output.
  { echo; echo "### bench/run.sh ${scenarios[*]}"; echo;
    grep -E '^(\||#|machine|verdict|```|\s+[0-9]+\.[0-9] s  |\s+(Passed|Failed) O2X|$)' "$out" | cat -s; } >> docs/benchmarks.md
  echo "appended to docs/benchmarks.md" >&2
fi
rm -f "$out"
