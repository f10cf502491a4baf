#!/usr/bin/env bash
# Runs the benchmarks of docs/benchmarks.md: builds Release, starts a durable PostgreSQL (fsync on) and
# RabbitMQ like ./test.sh does, runs each scenario (each prints its baseline, measured in the same run,
# and the ratio), and stops the services. Usage: bench/run.sh [scenario ...]  (default: all)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/services.sh
o2x_services_install
trap o2x_services_stop EXIT
o2x_services_start durable

dotnet build -c Release src/O2X.Host >/dev/null
dotnet build -c Release bench/O2X.Bench >/dev/null
bench() { dotnet bench/O2X.Bench/bin/Release/net10.0/O2X.Bench.dll "$@"; }

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(. /etc/os-release; echo "$PRETTY_NAME"), .NET $(dotnet --version)"
scenarios=("${@:-orders connectors oms-rabbitmq mediation rating}")
# shellcheck disable=SC2206
scenarios=(${scenarios[*]})
for scenario in "${scenarios[@]}"; do
  case "$scenario" in
    orders)
      echo "| store | orders | concurrency | orders/s | p50 ms | p99 ms | baseline (raw batched INSERT, same run) | ratio |"
      echo "|---|---|---|---|---|---|---|---|"
      bench orders --store sqlite --orders 20000 --warmup 2000 --concurrency 64
      bench orders --store postgres --orders 20000 --warmup 2000 --concurrency 64
      ;;
    connectors)
      echo "| transport | what | messages | connector msg/s | raw client loop msg/s (same run) | ratio |"
      echo "|---|---|---|---|---|---|"
      for transport in amqp091 amqp10 kafka; do bench connectors --transport "$transport" --messages 20000; done
      ;;
    oms-rabbitmq)
      echo "| store | orders | prefetch | concurrency | orders/s (consume → entities → journal → ack) | raw consume+ack msg/s (same run) | ratio |"
      echo "|---|---|---|---|---|---|---|"
      bench oms-rabbitmq --store sqlite --orders 10000
      bench oms-rabbitmq --store postgres --orders 10000
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
    *) echo "unknown scenario $scenario" >&2; exit 2 ;;
  esac
done
