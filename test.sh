#!/usr/bin/env bash
# The one command that runs every test: installs (as root, when missing) and starts throwaway RabbitMQ,
# PostgreSQL, ActiveMQ and Qpid Proton's AMQP 1.0 broker on loopback (scripts/services.sh), runs
# `dotnet test O2X.sln`, and stops them afterwards, also on failure.
# Kafka tests use librdkafka's in-process mock cluster and need nothing started here.
# Extra arguments go to `dotnet test` (e.g. ./test.sh --filter FullyQualifiedName~Ingestion).
set -euo pipefail
cd "$(dirname "$0")"
. scripts/services.sh

o2x_services_install
trap o2x_services_stop EXIT
o2x_services_start

dotnet test O2X.sln --blame-hang-timeout 10m --logger "console;verbosity=normal" "$@"
