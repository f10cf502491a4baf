#!/usr/bin/env bash
# The one command that runs every test: installs (as root, when missing) and starts throwaway RabbitMQ,
# PostgreSQL, ActiveMQ, Qpid Proton's AMQP 1.0 broker and an SMTP server on loopback (scripts/services.sh), builds the
# solution once, runs the four test assemblies in two concurrent lanes, and stops the services afterwards, also on failure.
# Kafka tests use librdkafka's in-process mock cluster and need nothing started here.
# Extra arguments go to every `dotnet test` (e.g. ./test.sh --filter FullyQualifiedName~Ingestion).
#
# Why two lanes: `dotnet test O2X.sln` ran the assemblies one after another (measured 2026-12-02: Streams 80 s, Actors
# 25 s, Integration ~5 min, Host ~1.5 min in sequence). The integration assembly is the long pole; the other three run
# beside it. Every test already shares the started services with tests of other classes running at the same time
# (unique queue, topic, database and mailbox names; restarts and failovers use brokers of their own).
set -euo pipefail
cd "$(dirname "$0")"
. scripts/services.sh

started=$SECONDS
o2x_services_install
trap o2x_services_stop EXIT
o2x_services_start
echo "[test.sh] services up after $((SECONDS - started)) s"

dotnet build O2X.sln -nologo -v:minimal
echo "[test.sh] built after $((SECONDS - started)) s"

logs=$(mktemp -d)

# Runs the given test projects one after another; each output line is prefixed with its assembly, and kept for the summary.
lane() {
  local failed=0 project name
  for project in "$@"; do
    name=$(basename "$project")
    if ! dotnet test "$project" --no-build --blame-hang-timeout 10m --logger "console;verbosity=normal" "${TEST_ARGS[@]}" 2>&1 \
        | tee "$logs/$name.log" | sed -u "s|^|[$name] |"; then
      failed=1
    fi
  done
  return $failed
}

TEST_ARGS=("$@")
lane tests/O2X.IntegrationTests & integration=$!
lane tests/O2X.Streams.Tests tests/O2X.Actors.Tests tests/O2X.Host.Tests & others=$!
status=0
wait $integration || status=1
wait $others || status=1

echo "[test.sh] tests done after $((SECONDS - started)) s"
for log in "$logs"/*.log; do
  echo "== $(basename "$log" .log): $(grep -E '^\s*(Total tests|Passed|Failed|Total time):' "$log" | tr -s ' ' | paste -sd' ' || true)"
  grep -E '^\s+Failed O2X' "$log" | sed 's/^/   /' || true
done
rm -rf "$logs"
exit $status
