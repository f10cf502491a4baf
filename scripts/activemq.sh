#!/usr/bin/env bash
# A throwaway ActiveMQ 5.17 (Debian's `activemq` package) on loopback: STOMP, STOMP over TLS and OpenWire,
# a user with a password, the statistics plugin (queue metrics over STOMP) and a KahaDB store that a second
# instance can share as a standby (Amazon MQ's active/standby: the standby waits for the store's lock and opens
# its ports when the active one dies).
#
#   scripts/activemq.sh start DIR [KAHADB]   start an instance in DIR (KahaDB in KAHADB, default DIR/kahadb);
#                                            prints KEY=VALUE lines (ports, pid, CA certificate) and returns
#                                            once the instance listens, or — a standby — once it waits for the lock
#   scripts/activemq.sh stop DIR             stop (kill) the instance started in DIR
#
# The TLS certificate is self-signed, for 127.0.0.1/localhost; clients validate it against DIR/ca.pem. The
# user is `o2x`, its password in DIR/password (random). Used by ./test.sh (through scripts/services.sh) and by
# tests that need their own brokers (failover).
set -euo pipefail

amq_log() { echo "[activemq] $*" >&2; }

. "$(dirname "${BASH_SOURCE[0]}")/ports.sh"

amq_listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

amq_start() {
  local dir=$1 kahadb=${2:-$1/kahadb} ow st ss password
  command -v java >/dev/null && [ -f /usr/share/activemq/bin/activemq.jar ] \
    || { amq_log "ActiveMQ is not installed (apt-get install activemq)"; return 1; }
  mkdir -p "$dir/conf" "$dir/data" "$dir/tmp" "$dir/lib" "$kahadb"
  dir=$(cd "$dir" && pwd); kahadb=$(cd "$kahadb" && pwd)
  # The statistics plugin's replies in JSON (transformation:jms-map-json) need XStream and Jettison.
  ln -sf /usr/share/java/xstream.jar /usr/share/java/jettison.jar "$dir/lib/"
  # Certificate and password belong with the store: a standby sharing it presents the same ones.
  local keys; keys=$(dirname "$kahadb")
  if [ ! -f "$keys/broker.p12" ]; then
    keytool -genkeypair -noprompt -alias broker -keyalg RSA -keysize 2048 -validity 30 -dname CN=localhost \
      -ext SAN=ip:127.0.0.1,dns:localhost -storetype PKCS12 -keystore "$keys/broker.p12" -storepass changeit >/dev/null 2>&1
    keytool -exportcert -rfc -alias broker -keystore "$keys/broker.p12" -storepass changeit > "$keys/ca.pem" 2>/dev/null
  fi
  [ -f "$keys/password" ] || head -c 18 /dev/urandom | base64 | tr -d '/+=' > "$keys/password"
  password=$(cat "$keys/password")
  ow=$(o2x_free_port); st=$(o2x_free_port); ss=$(o2x_free_port)
  cat > "$dir/conf/activemq.xml" <<'XML'
<beans xmlns="http://www.springframework.org/schema/beans" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
  xsi:schemaLocation="http://www.springframework.org/schema/beans http://www.springframework.org/schema/beans/spring-beans-2.0.xsd
  http://activemq.apache.org/schema/core http://activemq.apache.org/schema/core/activemq-core.xsd">
  <bean class="org.springframework.beans.factory.config.PropertyPlaceholderConfigurer"/>
  <broker xmlns="http://activemq.apache.org/schema/core" brokerName="o2x" persistent="true" useJmx="false"
          dataDirectory="${activemq.data}" schedulePeriodForDestinationPurge="0">
    <destinationPolicy>
      <policyMap><policyEntries>
        <!-- A message given back before a failover still says redelivered on the standby. -->
        <policyEntry queue=">" persistJMSRedelivered="true"/>
      </policyEntries></policyMap>
    </destinationPolicy>
    <persistenceAdapter>
      <kahaDB directory="${amq.kahadb}" journalMaxFileLength="8mb">
        <locker><shared-file-locker lockAcquireSleepInterval="500"/></locker>
      </kahaDB>
    </persistenceAdapter>
    <plugins>
      <statisticsBrokerPlugin/>
      <simpleAuthenticationPlugin anonymousAccessAllowed="false">
        <users><authenticationUser username="o2x" password="${amq.password}" groups="users,admins"/></users>
      </simpleAuthenticationPlugin>
    </plugins>
    <systemUsage><systemUsage>
      <memoryUsage><memoryUsage limit="96 mb"/></memoryUsage>
      <storeUsage><storeUsage limit="1 gb"/></storeUsage>
      <tempUsage><tempUsage limit="256 mb"/></tempUsage>
    </systemUsage></systemUsage>
    <sslContext><sslContext keyStore="file:${amq.keystore}" keyStorePassword="changeit" keyStoreType="PKCS12"/></sslContext>
    <transportConnectors>
      <transportConnector name="openwire" uri="tcp://127.0.0.1:${amq.openwire.port}"/>
      <transportConnector name="stomp" uri="stomp://127.0.0.1:${amq.stomp.port}"/>
      <transportConnector name="stomp+ssl" uri="stomp+ssl://127.0.0.1:${amq.stompssl.port}?transport.enabledProtocols=TLSv1.2,TLSv1.3"/>
    </transportConnectors>
  </broker>
</beans>
XML
  # Debian's ActiveMQ logs through Log4j 1.2, found on the classpath (DIR/conf).
  cat > "$dir/conf/log4j.properties" <<'PROPS'
log4j.rootLogger=WARN, console
log4j.logger.org.apache.activemq.broker.BrokerService=INFO
log4j.logger.org.apache.activemq.store.SharedFileLocker=INFO
log4j.appender.console=org.apache.log4j.ConsoleAppender
log4j.appender.console.layout=org.apache.log4j.PatternLayout
log4j.appender.console.layout.ConversionPattern=%d %-5p [%c{1}] %m%n
PROPS
  setsid java -Xms64m -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.io.tmpdir="$dir/tmp" \
    -Dactivemq.home=/usr/share/activemq -Dactivemq.base="$dir" -Dactivemq.conf="$dir/conf" -Dactivemq.data="$dir/data" \
    -Dactivemq.classpath="$dir/conf:$dir/lib/xstream.jar:$dir/lib/jettison.jar" \
    -Damq.kahadb="$kahadb" -Damq.keystore="$keys/broker.p12" -Damq.password="$password" \
    -Damq.openwire.port="$ow" -Damq.stomp.port="$st" -Damq.stompssl.port="$ss" \
    -jar /usr/share/activemq/bin/activemq.jar start "xbean:file:$dir/conf/activemq.xml" > "$dir/console.log" 2>&1 < /dev/null &
  local pid=$!
  echo "$pid" > "$dir/pid"
  printf 'PID=%s\nSTOMP_PORT=%s\nSTOMPSSL_PORT=%s\nOPENWIRE_PORT=%s\nCA=%s\nUSER=o2x\nPASSWORD_FILE=%s\n' \
    "$pid" "$st" "$ss" "$ow" "$keys/ca.pem" "$keys/password" > "$dir/endpoints"
  local deadline=$(( $(date +%s) + 90 ))
  while :; do
    # All three: a standby started next picks its own ports, and one of ours not yet open would look free to it.
    if amq_listening "$st" && amq_listening "$ss" && amq_listening "$ow"; then break; fi
    # A standby: alive, waiting for the store's lock (the log says so).
    if grep -qs "could not be locked\|waiting for\|Database .* is locked" "$dir/console.log"; then break; fi
    if ! kill -0 "$pid" 2>/dev/null; then amq_log "ActiveMQ in $dir exited:"; tail -n 30 "$dir/console.log" >&2; return 1; fi
    if [ "$(date +%s)" -ge "$deadline" ]; then amq_log "ActiveMQ in $dir did not come up within 90s"; tail -n 30 "$dir/console.log" >&2; return 1; fi
    sleep 0.2
  done
  cat "$dir/endpoints"
}

amq_stop() {
  local dir=$1 pid
  [ -f "$dir/pid" ] || return 0
  pid=$(cat "$dir/pid")
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$dir/pid"
}

case "${1:-}" in
  start) shift; amq_start "$@" ;;
  stop) shift; amq_stop "$@" ;;
  *) echo "usage: $0 start DIR [KAHADB] | stop DIR" >&2; exit 2 ;;
esac
