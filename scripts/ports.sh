# Sourced by scripts/services.sh and scripts/activemq.sh.
#
# o2x_free_port: a free loopback port below the kernel's ephemeral range. A standby or a restarted server binds its port
# again minutes later, and a port in the ephemeral range may by then be the local port of an outgoing connection.
o2x_free_port() {
  local port low
  low=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
  [ "$low" -gt 22000 ] 2>/dev/null || low=41000
  while :; do
    port=$(( (RANDOM % (low - 20000)) + 20000 ))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "$port"; return; fi
  done
}
