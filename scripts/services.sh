#!/usr/bin/env bash
# Throwaway RabbitMQ (with AMQP 1.0 and management plugins), PostgreSQL, ActiveMQ (STOMP, STOMP+TLS;
# scripts/activemq.sh) and Qpid Proton's example broker (AMQP 1.0) on loopback, in temporary directories, for ./test.sh and the benchmarks. Source this file, then:
#   o2x_services_install             apt-get what is missing (as root)
#   o2x_services_start [durable]     start them; "durable" keeps PostgreSQL's fsync on (benchmarks)
#   o2x_services_stop                stop them and remove their data
# Exports O2X_TEST_POSTGRES, O2X_TEST_RABBITMQ_URI, O2X_TEST_RABBITMQ_AMQP10_URI,
# O2X_TEST_RABBITMQ_MANAGEMENT_URI, O2X_TEST_RABBITMQ_NODE and O2X_TEST_ACTIVEMQ_* (STOMP, STOMPSSL, CA, USER,
# PASSWORD, DIR) and O2X_TEST_QPID_AMQP10_URI (Qpid Proton's example broker: a second AMQP 1.0 implementation).
# O2X_TEST_SMTP (host:port of an aiosmtpd server on loopback) and O2X_TEST_SMTP_MAILDIR (the Maildir it writes what it receives to).

O2X_SERVICES_DIR="${O2X_SERVICES_DIR:-}"
O2X_SCRIPTS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

o2x_log() { echo "[services] $*" >&2; }

. "$O2X_SCRIPTS_DIR/ports.sh"

o2x_as_service_user() { # user, command...
  local user=$1; shift
  if [ "$(id -u)" = 0 ]; then runuser -u "$user" -- "$@"; else "$@"; fi
}

o2x_postgres_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

o2x_services_install() {
  local need=()
  command -v rabbitmq-server >/dev/null 2>&1 || need+=(rabbitmq-server)
  [ -n "$(o2x_postgres_bin)" ] || need+=(postgresql)
  command -v kcat >/dev/null 2>&1 || need+=(kcat)
  command -v amqp-publish >/dev/null 2>&1 || need+=(amqp-tools)
  command -v curl >/dev/null 2>&1 || need+=(curl)
  command -v chromium >/dev/null 2>&1 || need+=(chromium) # the web console's browser tests
  [ -f /usr/share/activemq/bin/activemq.jar ] || need+=(activemq)
  # ActiveMQ's statistics replies as JSON over STOMP need XStream and Jettison on its classpath.
  [ -f /usr/share/java/xstream.jar ] || need+=(libxstream-java)
  [ -f /usr/share/java/jettison.jar ] || need+=(libjettison-java)
  /usr/bin/python3 -c "import stomp" >/dev/null 2>&1 || need+=(python3-stomp) # an independent STOMP client
  # A second AMQP 1.0 implementation: Qpid Proton's example broker.
  /usr/bin/python3 -c "import proton" >/dev/null 2>&1 || need+=(python3-qpid-proton)
  [ -f /usr/share/proton/examples/python/broker.py ] || need+=(libqpid-proton11-dev-examples)
  # A real SMTP server on loopback that keeps what it receives in a Maildir (invoice e-mails).
  /usr/bin/python3 -c "import aiosmtpd" >/dev/null 2>&1 || need+=(python3-aiosmtpd)
  [ ${#need[@]} -eq 0 ] && return 0
  if [ "$(id -u)" != 0 ]; then
    o2x_log "missing ${need[*]}: run ./test.sh as root once, or install them (apt-get install ${need[*]})"
    return 1
  fi
  o2x_log "installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
}

o2x_wait_for() { # seconds, description, command...
  local seconds=$1 what=$2; shift 2
  local deadline=$(( $(date +%s) + seconds ))
  until "$@" >/dev/null 2>&1; do
    if [ "$(date +%s)" -ge "$deadline" ]; then o2x_log "$what did not come up within ${seconds}s"; return 1; fi
    sleep 0.5
  done
}

o2x_rabbitmq_start() {
  local d="$O2X_SERVICES_DIR/rabbitmq" amqp dist mgmt node
  mkdir -p "$d/mnesia" "$d/log"
  echo '[rabbitmq_amqp1_0,rabbitmq_management].' > "$d/plugins"
  [ "$(id -u)" = 0 ] && chown -R rabbitmq:rabbitmq "$d"
  amqp=$(o2x_free_port); dist=$(o2x_free_port); mgmt=$(o2x_free_port)
  node="o2xtest$$x${RANDOM}@localhost"
  o2x_log "starting RabbitMQ $node (amqp $amqp, management $mgmt)"
  RABBITMQ_MNESIA_BASE="$d/mnesia" RABBITMQ_LOG_BASE="$d/log" RABBITMQ_ENABLED_PLUGINS_FILE="$d/plugins" \
  RABBITMQ_FEATURE_FLAGS_FILE="$d/feature_flags" RABBITMQ_NODENAME="$node" RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 \
  RABBITMQ_NODE_PORT="$amqp" RABBITMQ_DIST_PORT="$dist" \
  RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-rabbitmq_management tcp_config [{ip,\"127.0.0.1\"},{port,$mgmt}]" \
    setsid rabbitmq-server > "$d/server.out" 2>&1 < /dev/null &
  if ! o2x_wait_for 90 RabbitMQ curl -sf -u guest:guest "http://127.0.0.1:$mgmt/api/overview"; then
    tail -n 30 "$d/server.out" "$d"/log/*.log >&2 || true
    return 1
  fi
  export O2X_TEST_RABBITMQ_NODE="$node"
  export O2X_TEST_RABBITMQ_URI="amqp://guest:guest@127.0.0.1:$amqp/"
  export O2X_TEST_RABBITMQ_AMQP10_URI="amqp://guest:guest@127.0.0.1:$amqp"
  export O2X_TEST_RABBITMQ_MANAGEMENT_URI="http://guest:guest@127.0.0.1:$mgmt/"
}

o2x_postgres_start() { # [durable]
  local bin d port settings
  bin=$(o2x_postgres_bin); d="$O2X_SERVICES_DIR/postgres"
  mkdir -p "$d"
  [ "$(id -u)" = 0 ] && chown postgres:postgres "$d"
  port=$(o2x_free_port)
  settings="-p $port -k $d -c listen_addresses=127.0.0.1 -c max_connections=300"
  # Tests do not need crash durability of the server itself; benchmarks ask for the real thing.
  [ "${1:-}" = durable ] || settings="$settings -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
  o2x_log "starting PostgreSQL ($bin) on port $port${1:+ ($1)}"
  o2x_as_service_user postgres "$bin/initdb" -D "$d/data" -U postgres --auth=trust -E UTF8 > "$d/initdb.out" 2>&1 \
    || { cat "$d/initdb.out" >&2; return 1; }
  o2x_as_service_user postgres "$bin/pg_ctl" -D "$d/data" -l "$d/server.log" -w -t 60 -o "$settings" start > /dev/null \
    || { tail -n 30 "$d/server.log" >&2; return 1; }
  export O2X_TEST_POSTGRES="Host=127.0.0.1;Port=$port;Username=postgres;Database=postgres"
  export O2X_TEST_POSTGRES_DATA="$d/data"
  export O2X_TEST_POSTGRES_BIN="$bin"
  export O2X_TEST_POSTGRES_SETTINGS="$settings"
}

o2x_activemq_launch() { # in the background, while RabbitMQ starts
  o2x_log "starting ActiveMQ"
  "$O2X_SCRIPTS_DIR/activemq.sh" start "$O2X_SERVICES_DIR/activemq" > "$O2X_SERVICES_DIR/activemq.endpoints" &
  O2X_ACTIVEMQ_LAUNCH=$!
}

o2x_activemq_start() {
  local d="$O2X_SERVICES_DIR/activemq" out
  [ -n "${O2X_ACTIVEMQ_LAUNCH:-}" ] || o2x_activemq_launch
  wait "$O2X_ACTIVEMQ_LAUNCH" || return 1
  O2X_ACTIVEMQ_LAUNCH=""
  out=$(cat "$O2X_SERVICES_DIR/activemq.endpoints")
  local st ss
  st=$(echo "$out" | sed -n 's/^STOMP_PORT=//p'); ss=$(echo "$out" | sed -n 's/^STOMPSSL_PORT=//p')
  export O2X_TEST_ACTIVEMQ_STOMP="stomp://127.0.0.1:$st"
  export O2X_TEST_ACTIVEMQ_STOMPSSL="stomp+ssl://127.0.0.1:$ss"
  export O2X_TEST_ACTIVEMQ_CA="$d/ca.pem"
  export O2X_TEST_ACTIVEMQ_USER=o2x
  O2X_TEST_ACTIVEMQ_PASSWORD=$(cat "$d/password"); export O2X_TEST_ACTIVEMQ_PASSWORD
  export O2X_TEST_ACTIVEMQ_DIR="$d"
}

o2x_qpid_start() {
  local d="$O2X_SERVICES_DIR/qpid" port
  mkdir -p "$d"; port=$(o2x_free_port)
  o2x_log "starting the Qpid Proton example broker (AMQP 1.0) on port $port"
  setsid /usr/bin/python3 /usr/share/proton/examples/python/broker.py -a "127.0.0.1:$port" > "$d/broker.log" 2>&1 < /dev/null &
  echo $! > "$d/pid"
  o2x_wait_for 30 "Qpid Proton broker" bash -c "exec 3<>/dev/tcp/127.0.0.1/$port" || { cat "$d/broker.log" >&2; return 1; }
  export O2X_TEST_QPID_AMQP10_URI="amqp://127.0.0.1:$port"
}

o2x_smtp_start() {
  local d="$O2X_SERVICES_DIR/smtp" port
  mkdir -p "$d"; port=$(o2x_free_port)
  o2x_log "starting an SMTP server (aiosmtpd, Maildir) on port $port"
  PYTHONPATH="$O2X_SCRIPTS_DIR" setsid /usr/bin/python3 -m aiosmtpd -n -l "127.0.0.1:$port" -c o2x_smtp.Handler "$d/maildir" > "$d/smtp.log" 2>&1 < /dev/null &
  echo $! > "$d/pid"
  o2x_wait_for 30 "SMTP server" bash -c "exec 3<>/dev/tcp/127.0.0.1/$port" || { cat "$d/smtp.log" >&2; return 1; }
  export O2X_TEST_SMTP="127.0.0.1:$port" O2X_TEST_SMTP_MAILDIR="$d/maildir"
}

o2x_services_start() { # [durable]
  if [ -z "$O2X_SERVICES_DIR" ]; then O2X_SERVICES_DIR=$(mktemp -d /tmp/o2x-services.XXXXXX); fi
  chmod 755 "$O2X_SERVICES_DIR"
  export O2X_SERVICES_DIR
  o2x_activemq_launch
  o2x_postgres_start "${1:-}"
  o2x_rabbitmq_start
  o2x_activemq_start
  o2x_qpid_start
  o2x_smtp_start
}

o2x_services_stop() {
  [ -n "$O2X_SERVICES_DIR" ] && [ -d "$O2X_SERVICES_DIR" ] || return 0
  local bin
  bin=$(o2x_postgres_bin)
  if [ -d "$O2X_SERVICES_DIR/postgres/data" ]; then
    o2x_as_service_user postgres "$bin/pg_ctl" -D "$O2X_SERVICES_DIR/postgres/data" -m fast -w stop > /dev/null 2>&1 || true
  fi
  if [ -n "${O2X_TEST_RABBITMQ_NODE:-}" ]; then
    timeout 60 rabbitmqctl -n "$O2X_TEST_RABBITMQ_NODE" stop > /dev/null 2>&1 || true
    # If the node did not stop, kill its VM (its environment names our data directory).
    local vm
    for vm in $(pgrep beam.smp 2>/dev/null); do
      grep -qs "$O2X_SERVICES_DIR/rabbitmq" "/proc/$vm/environ" && kill -KILL "$vm" 2>/dev/null
    done
  fi
  [ -d "$O2X_SERVICES_DIR/activemq" ] && "$O2X_SCRIPTS_DIR/activemq.sh" stop "$O2X_SERVICES_DIR/activemq"
  [ -f "$O2X_SERVICES_DIR/qpid/pid" ] && kill "$(cat "$O2X_SERVICES_DIR/qpid/pid")" 2>/dev/null
  [ -f "$O2X_SERVICES_DIR/smtp/pid" ] && kill "$(cat "$O2X_SERVICES_DIR/smtp/pid")" 2>/dev/null
  rm -rf "$O2X_SERVICES_DIR"
  O2X_SERVICES_DIR=""
}
