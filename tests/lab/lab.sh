# The lab: a real Docker host in network namespaces, with simulated outside
# hosts. Source it (after tests/lib.sh, or on its own with labctl).
#
#   lab_up PREFIX            creates the namespaces and starts dockerd
#     LAB_BACKEND=nft|legacy  which iptables Docker drives (default nft)
#     LAB_DAEMON_JSON='{...}' daemon.json content (default {})
#     LAB_DOCKER=20.10|26.1|28.5|29  which Docker runs (default 20.10, Debian 12's;
#                             the others are fetched by docker-version.sh; 29 is
#                             a replay, see lab__docker29_sync)
#   lab_docker ARGS...        docker CLI against the lab's daemon
#   lab_host CMD...           run CMD in the Docker host's namespace
#   lab_wan CMD... / lab_lan CMD...   run CMD on an outside host
#   lab_run_web NAME PORTSPEC... [--network NET]   busybox httpd on :80
#   lab_dockerd_restart       stop and start dockerd (containers stay stopped)
#   lab_apply_remediation [STYLE]   load dockfw-audit remediate's table; containers must have egress
#   lab_settle                wait until the host is ready to collect (proxies, IPv6 DAD)
#   lab_ufw ARGS...           Debian 12's ufw, run in a private view of the files (below)
#   lab_firewalld_start       Debian 12's firewalld on a private D-Bus (below)
#   lab_down                  stops everything and removes it all
#
# Topology (all inside namespaces this lab creates):
#   wan  eth0 203.0.113.2/24  2001:db8:1::2/64 --- host eth0 203.0.113.1/24 2001:db8:1::1/64
#   lan  eth0 198.51.100.2/24 2001:db8:2::2/64 --- host eth1 198.51.100.1/24 2001:db8:2::1/64
# dockerd runs in "host" through nsenter --net (not ip netns exec, which
# remounts /sys and loses the cgroup mounts), with its own data root, exec
# root, socket, config file and pidfile.

LAB_BACKEND=${LAB_BACKEND:-nft}
LAB_DAEMON_JSON=${LAB_DAEMON_JSON:-'{}'}
LAB_DOCKER=${LAB_DOCKER:-20.10}

lab__uniq() { printf '%s%04x%04x' "$1" $$ $((RANDOM)); }

lab_host() { ip netns exec "$LAB_HOST" "$@"; }
lab_wan() { ip netns exec "$LAB_WAN" "$@"; }
lab_lan() { ip netns exec "$LAB_LAN" "$@"; }
lab_docker() {
  docker -H "unix://$LAB_DIR/docker.sock" "$@" || return
  # Docker 29 writes its tables as containers and networks come and go.
  if [ "$LAB_DOCKER" = 29 ]; then
    case "$1 ${2:-}" in
      run* | start* | restart* | stop* | rm* | kill* | "network create" | "network connect" | "network disconnect" | "network rm")
        lab__docker29_sync ;;
    esac
  fi
}

# Docker 29 (firewall-backend nftables) has no Debian package: the lab runs
# 28.5's dockerd with "iptables": false and "ip6tables": false (bridges,
# containers and docker-proxy, no rules) and loads the tables Docker 29
# writes for the same networks and containers (tests/lab/docker29.py, after
# moby's generated documentation of them). daemon.json then says what Docker
# 29 reads, and DOCKER_FIREWALL_BACKEND=nftables makes /info say so
# (docs/lab.md).
lab__docker29_sync() {
  local d=$LAB_DIR/docker29
  mkdir -p "$d"
  docker -H "unix://$LAB_DIR/docker.sock" network inspect $(docker -H "unix://$LAB_DIR/docker.sock" network ls -q) >"$d/networks.json" &&
    { docker -H "unix://$LAB_DIR/docker.sock" inspect $(docker -H "unix://$LAB_DIR/docker.sock" ps -q) 2>/dev/null || echo '[]'; } >"$d/containers.json" &&
    printf '%s\n' "$LAB_DAEMON_JSON" >"$d/daemon.json" &&
    python3 "$(dirname "${BASH_SOURCE[0]}")/docker29.py" "$d/networks.json" "$d/containers.json" "$d/daemon.json" >"$d/tables.nft" &&
    lab_host nft -f "$d/tables.nft" || { echo "lab: Docker 29's tables did not load ($d/tables.nft)" >&2; return 1; }
}

# The daemon.json dockerd reads (28.5's, for a Docker 29 replay) and the one
# left in place for dockfw-audit to read.
lab__daemon_json_for_dockerd() {
  if [ "$LAB_DOCKER" = 29 ]; then
    python3 -c 'import json,sys; d=json.loads(sys.argv[1]); d.update({"iptables": False, "ip6tables": False}); print(json.dumps(d))' "$LAB_DAEMON_JSON"
  else
    printf '%s\n' "$LAB_DAEMON_JSON"
  fi
}
lab__daemon_json_as_configured() {
  if [ "$LAB_DOCKER" = 29 ]; then
    python3 -c 'import json,sys; d=json.loads(sys.argv[1]); d["firewall-backend"] = "nftables"; print(json.dumps(d))' "$LAB_DAEMON_JSON"
  else
    printf '%s\n' "$LAB_DAEMON_JSON"
  fi
}

lab__link() { # NS_A IF_A NS_B IF_B
  ip link add "$2" netns "$1" type veth peer name "$4" netns "$3"
  ip -n "$1" link set "$2" up
  ip -n "$3" link set "$4" up
}

lab__busybox_image() {
  local root="$LAB_DIR/rootfs"
  mkdir -p "$root/bin" "$root/www" "$root/tmp"
  cp /bin/busybox "$root/bin/busybox"
  for a in sh httpd nc cat echo sleep ip mkdir; do ln -sf busybox "$root/bin/$a"; done
  echo lab >"$root/www/index.html"
  gcc -static -O2 -o "$root/bin/udp_echo" "$(dirname "${BASH_SOURCE[0]}")/udp_echo.c" || return 1
  tar -C "$root" -c . | lab_docker import - dfa-busybox:latest >/dev/null
}

lab_up() {
  local prefix=${1:-lab}
  LAB_DIR=$(mktemp -d "${TMPDIR:-/tmp}/dfa-lab.XXXXXX")
  LAB_HOST=$(lab__uniq "${prefix}h")
  LAB_WAN=$(lab__uniq "${prefix}w")
  LAB_LAN=$(lab__uniq "${prefix}l")
  export LAB_DIR LAB_HOST LAB_WAN LAB_LAN
  local ns
  for ns in "$LAB_HOST" "$LAB_WAN" "$LAB_LAN"; do
    ip netns add "$ns" || return 1
    ip -n "$ns" link set lo up
  done
  lab__link "$LAB_HOST" eth0 "$LAB_WAN" eth0
  lab__link "$LAB_HOST" eth1 "$LAB_LAN" eth0
  ip -n "$LAB_HOST" addr add 203.0.113.1/24 dev eth0
  ip -n "$LAB_HOST" addr add 2001:db8:1::1/64 dev eth0 nodad
  ip -n "$LAB_HOST" addr add 198.51.100.1/24 dev eth1
  ip -n "$LAB_HOST" addr add 2001:db8:2::1/64 dev eth1 nodad
  # wan is the host's way to the rest of the world: its default route.
  ip -n "$LAB_HOST" route add default via 203.0.113.2
  ip -n "$LAB_HOST" -6 route add default via 2001:db8:1::2
  ip -n "$LAB_WAN" addr add 203.0.113.2/24 dev eth0
  ip -n "$LAB_WAN" addr add 2001:db8:1::2/64 dev eth0 nodad
  ip -n "$LAB_WAN" route add default via 203.0.113.1
  ip -n "$LAB_WAN" -6 route add default via 2001:db8:1::1
  ip -n "$LAB_LAN" addr add 198.51.100.2/24 dev eth0
  ip -n "$LAB_LAN" addr add 2001:db8:2::2/64 dev eth0 nodad
  ip -n "$LAB_LAN" route add default via 198.51.100.1
  ip -n "$LAB_LAN" -6 route add default via 2001:db8:2::1
  # lan is a neighbour that routes Docker's subnets to the host (direct routing).
  ip -n "$LAB_LAN" route add 172.16.0.0/12 via 198.51.100.1
  ip -n "$LAB_LAN" route add 192.168.0.0/16 via 198.51.100.1
  ip -n "$LAB_LAN" -6 route add fd00::/8 via 2001:db8:2::1
  # ... and, like an attacker on the same link (moby#45610), sends packets for
  # 127.0.0.1 to the host: its own local table is consulted after a rule that
  # routes 127.0.0.1 out of eth0, and route_localnet lets the packets (and
  # the replies from 127.0.0.1) through its routing checks. Nothing in this
  # namespace uses its own loopback address.
  ip -n "$LAB_LAN" rule add pref 100 lookup local
  ip -n "$LAB_LAN" rule del pref 0
  ip -n "$LAB_LAN" rule add pref 10 to 127.0.0.1/32 lookup 100
  ip -n "$LAB_LAN" route add 127.0.0.1/32 via 198.51.100.1 dev eth0 table 100
  ip netns exec "$LAB_LAN" sysctl -qw net.ipv4.conf.eth0.route_localnet=1 net.ipv4.conf.all.route_localnet=1

  # Which iptables Docker drives: it execs "iptables" from its PATH.
  mkdir -p "$LAB_DIR/bin"
  local t
  for t in iptables ip6tables; do
    ln -sf "/usr/sbin/$t-$LAB_BACKEND" "$LAB_DIR/bin/$t"
    ln -sf "/usr/sbin/$t-$LAB_BACKEND-save" "$LAB_DIR/bin/$t-save"
    ln -sf "/usr/sbin/$t-$LAB_BACKEND-restore" "$LAB_DIR/bin/$t-restore"
  done
  local binver=$LAB_DOCKER
  if [ "$LAB_DOCKER" = 29 ]; then
    binver=28.5
    # Docker 29 with nftables does not enable forwarding: the admin did.
    ip netns exec "$LAB_HOST" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
  fi
  LAB_DOCKER_BIN=$(bash "$(dirname "${BASH_SOURCE[0]}")/docker-version.sh" bindir "$binver") || return 1
  export LAB_DOCKER LAB_DOCKER_BIN
  lab_dockerd_start || return 1
  lab__busybox_image
}

# lab_run_web NAME [docker run options...]: a busybox httpd answering on :80
# (and :443, :7000-7002) with its own name.
# Starts dockerd in the lab host's namespace with the lab's own roots, socket
# and config file, and waits until it answers.
lab_dockerd_start() {
  lab__daemon_json_for_dockerd >"$LAB_DIR/daemon.json"
  local env=()
  [ "$LAB_DOCKER" = 29 ] && env=(DOCKER_FIREWALL_BACKEND=nftables)
  # The lab's own system bus (lab_firewalld_start), there or not: dockerd
  # never meets a firewalld of the machine.
  env "${env[@]}" DBUS_SYSTEM_BUS_ADDRESS="unix:path=$LAB_DIR/firewalld/bus.sock" \
    PATH="$LAB_DIR/bin:$LAB_DOCKER_BIN:$PATH" nsenter --net="/run/netns/$LAB_HOST" dockerd \
    --data-root "$LAB_DIR/data" --exec-root "$LAB_DIR/exec" -H "unix://$LAB_DIR/docker.sock" \
    --config-file "$LAB_DIR/daemon.json" --pidfile "$LAB_DIR/docker.pid" >>"$LAB_DIR/dockerd.log" 2>&1 &
  local i
  # Up to 60 s: a restart restores its containers' state through containerd
  # first, which takes long on a busy 2-core machine.
  for i in $(seq 1 300); do
    lab_docker version >/dev/null 2>&1 && break
    sleep 0.2
  done
  lab_docker version >/dev/null 2>&1 || { echo "dockerd did not start:"; tail -40 "$LAB_DIR/dockerd.log"; return 1; }
  lab__daemon_json_as_configured >"$LAB_DIR/daemon.json"
  if [ "$LAB_DOCKER" = 29 ]; then lab__docker29_sync || return 1; fi
}

# Stops dockerd (containers without a restart policy stay stopped, as on a
# real host) and starts it again.
lab_dockerd_restart() {
  lab__dockerd_stop
  lab_dockerd_start
}

lab__dockerd_stop() {
  [ -f "$LAB_DIR/docker.pid" ] || return 0
  local pid i
  pid=$(cat "$LAB_DIR/docker.pid")
  kill "$pid" 2>/dev/null
  for i in $(seq 1 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -9 "$pid" 2>/dev/null; then
    echo "lab: dockerd $pid did not stop within 20 s; killed" >>"$LAB_DIR/dockerd.log"
    rm -f "$LAB_DIR/docker.pid"
  fi
  return 0
}

lab_run_web() {
  local name=$1
  shift
  lab_docker run -d --name "$name" "$@" dfa-busybox:latest sh -c \
    "echo $name > /www/index.html; for p in 80 443 7000 7001 7002; do httpd -p \$p -h /www; done; exec sleep 100000" >/dev/null
}

# lab_run_udp_echo NAME PORT [docker run options...]: answers every UDP
# datagram to PORT with NAME, and serves HTTP like lab_run_web, so that every
# lab container listens on the same TCP ports.
lab_run_udp_echo() {
  local name=$1 port=$2
  shift 2
  lab_docker run -d --name "$name" "$@" dfa-busybox:latest sh -c \
    "echo $name > /www/index.html; for p in 80 443 7000 7001 7002; do httpd -p \$p -h /www; done; exec udp_echo $port $name" >/dev/null
}

# lab_udp_probe NS ADDR PORT: sends one datagram from namespace NS, prints
# the reply (empty on timeout).
lab_udp_probe() {
  ip netns exec "$1" python3 -c '
import socket, sys
a, p = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
s.sendto(b"probe", (a, p))
try:
    print(s.recv(2048).decode(errors="replace"), end="")
except OSError:
    pass' "$2" "$3"
}

# lab_host_http ADDR:PORT NAME: a host (not container) web server in the
# Docker host's namespace answering with NAME; stopped by lab_down.
lab_host_http() {
  mkdir -p "$LAB_DIR/www-$2"
  echo "$2" >"$LAB_DIR/www-$2/index.html"
  lab_host busybox httpd -p "$1" -h "$LAB_DIR/www-$2"
}

# Waits until the lab host's state is settled enough to collect: docker-proxy
# and late rules (half a second), and no IPv6 address still tentative (the
# kernel adds an address's local and anycast routes only after duplicate
# address detection, so a snapshot taken earlier lacks them).
lab_settle() {
  sleep 0.5
  local i
  for i in $(seq 1 50); do
    [ -z "$(ip -n "$LAB_HOST" -6 addr show tentative 2>/dev/null)" ] && return 0
    sleep 0.1
  done
  echo "lab: IPv6 addresses still tentative after 5 s" >&2
}

# Loads dockfw-audit's remediation (STYLE guard, the default, or owner) into
# the lab host the way an admin would: collect, remediate (exit 1 when a hole
# would remain), nft -c, nft -f. Then checks with real packets that every
# running container reaches the outside world (wan answers on tcp 80).
# Needs DFA_BIN.
lab_apply_remediation() {
  local style=${1:-guard}
  local snap=$LAB_DIR/pre-$style.json script=$LAB_DIR/$style.nft
  lab_settle
  lab_host "$DFA_BIN" collect --docker-host "unix://$LAB_DIR/docker.sock" $(lab_config_options) \
    -o "$snap" 2>/dev/null || { echo "guard: collect failed"; return 1; }
  "$DFA_BIN" remediate --style "$style" --snapshot "$snap" -o "$script" || { echo "guard: remediate failed or left a hole"; return 1; }
  if [ "$style" = ufw ]; then
    # As its header says: each block appended to the ufw file it names, then
    # `ufw reload`, in the lab's ufw view (lab_ufw).
    local file n=0
    for file in after.rules after6.rules; do
      awk -v want="### append to /etc/ufw/$file" '$0 == want {on = 1; next} /^### |^# Verified/ {on = 0} on' "$script" \
        >"$LAB_DIR/ufw-$file"
      [ -s "$LAB_DIR/ufw-$file" ] || continue
      n=$((n + 1))
      lab_in_ufw_view sh -c "cat >>/etc/ufw/$file" <"$LAB_DIR/ufw-$file" || { echo "guard: $file not written"; return 1; }
    done
    [ "$n" -gt 0 ] || { echo "guard: no block for ufw's files in $script"; return 1; }
    lab_ufw reload >/dev/null || { echo "guard: ufw reload failed with the blocks of $script"; return 1; }
  elif [ "$style" = firewalld ]; then
    # The script as its header says: run as root, where firewall-cmd talks to
    # the lab's firewalld. Its --reload makes Docker put its rules and
    # docker0's zone binding back, in its own time: wait for the binding.
    # Twice: its header says running it again replaces what it added.
    local run
    for run in 1 2; do
      lab_in_firewalld_view sh "$script" >"$LAB_DIR/firewalld-style.out" 2>&1 ||
        { echo "guard: $script failed (run $run): $(tail -5 "$LAB_DIR/firewalld-style.out")"; return 1; }
    done
    local i
    for i in $(seq 1 100); do
      [ "$(lab_firewall_cmd --get-zone-of-interface=docker0 2>/dev/null)" = docker ] && break
      sleep 0.1
    done
  else
    lab_host nft -c -f "$script" || { echo "guard: nft -c rejects $script"; return 1; }
    lab_host nft -f "$script" || { echo "guard: nft -f failed"; return 1; }
  fi
  (lab_wan python3 "$DFA_SRC/tests/lab/tcp_answer.py" wan 80 >/dev/null 2>&1 &)  # a subshell: no job notice when lab_down kills it
  sleep 0.5
  printf '[{"dst": "203.0.113.2", "port": 80, "proto": "tcp"}]' >"$LAB_DIR/egress.json"
  local c pid got
  for c in $(lab_docker ps -q); do
    pid=$(lab_docker inspect -f '{{.State.Pid}}' "$c")
    got=$(nsenter --net="/proc/$pid/ns/net" python3 "$DFA_SRC/tests/lab/probe.py" "$LAB_DIR/egress.json" |
      python3 -c 'import json,sys; r=json.load(sys.stdin)[0]; print(r["result"], r["answer"])')
    [ "$got" = "open wan:80" ] || { echo "guard: container $c lost its egress to wan: $got"; return 1; }
  done
}

# ufw: Debian 12's package, unpacked (debian-pkg.sh, never installed) and
# run as if installed, in a private mount namespace entered into the lab
# host's network namespace. Overlays show the package's files over /usr, a
# private /etc/ufw and /etc/default/ufw (made from the package's templates,
# as its postinst makes them) and a private /run; /etc/alternatives says
# which iptables ufw runs (LAB_UFW_BACKEND, nft or legacy, default the
# lab's). ufw's own scripts (ufw-init, before.init) load its rules and its
# sysctl.conf, into the lab host only: every write lands in the overlays'
# upper directories under LAB_DIR or in the lab's network namespace.
#   lab_ufw ARGS...          ufw itself: lab_ufw --force enable
#   lab_in_ufw_view CMD...   CMD in the lab host with ufw's files in view
# Debian 12 packages unpacked once per machine (debian-pkg.sh) into
# $DFA_PKG_CACHE/NAME, with usr/ and etc/ as a view's overlays want them.
lab__pkg_cache() { # NAME FILE PKG...: prints the directory once FILE is in it
  local cache=${DFA_PKG_CACHE:-/var/cache/dfa-lab/pkg}/$1 file=$2
  shift 2
  if [ ! -e "$cache/$file" ]; then
    mkdir -p "$(dirname "$cache")"
    (
      flock 9
      [ -e "$cache/$file" ] && exit 0
      bash "$(dirname "${BASH_SOURCE[0]}")/debian-pkg.sh" unpack bookworm "$cache.new" "$@" >&2 || exit 1
      # Debian 12 has merged /usr: a package's /lib is /usr/lib.
      mv "$cache.new/root/usr" "$cache.new/usr" && mkdir -p "$cache.new/usr/lib" &&
        { [ ! -d "$cache.new/root/lib" ] || cp -a "$cache.new/root/lib/." "$cache.new/usr/lib/"; } &&
        mv "$cache.new/root/etc" "$cache.new/etc" && rm -rf "$cache.new/root" "$cache" && mv "$cache.new" "$cache"
    ) 9>"$cache.lock" || { echo "lab: could not fetch $*" >&2; return 1; }
  fi
  echo "$cache"
}

lab__ufw_cache() { lab__pkg_cache ufw-bookworm usr/sbin/ufw ufw; }

lab__ufw_prepare() {
  [ -d "$LAB_DIR/ufw/etc" ] && return 0
  local cache d=$LAB_DIR/ufw backend=${LAB_UFW_BACKEND:-$LAB_BACKEND} t
  cache=$(lab__ufw_cache) || return 1
  mkdir -p "$d/etc/ufw" "$d/etc/default" "$d/etc/alternatives" "$d/etc.work" "$d/run" "$d/run.work"
  cp -a "$cache/etc/ufw/." "$d/etc/ufw/"
  cp "$cache/usr/share/ufw/iptables/"*.rules "$cache/usr/share/ufw/ufw.conf" "$d/etc/ufw/"
  cp "$cache/etc/default/ufw" "$d/etc/default/ufw"
  for t in iptables ip6tables; do
    ln -s "/usr/sbin/$t-$backend" "$d/etc/alternatives/$t"
    ln -s "/usr/sbin/$t-$backend-save" "$d/etc/alternatives/$t-save"
    ln -s "/usr/sbin/$t-$backend-restore" "$d/etc/alternatives/$t-restore"
  done
  echo "$cache" >"$d/cache"
}

# collect's options for the lab host's configuration files (its nftables.conf,
# its ufw in $LAB_DIR/ufw when lab_ufw ran), never the machine's.
lab_config_options() {
  # firewalld's files as the lab's firewalld sees them: its /etc/firewalld
  # (the package's copy, with what it wrote) and the package's
  # /usr/lib/firewalld; neither exists where the lab runs no firewalld.
  local fw_usr=$LAB_DIR/firewalld/no-package
  [ -f "$LAB_DIR/firewalld/cache" ] && fw_usr="$(cat "$LAB_DIR/firewalld/cache")/usr/lib/firewalld"
  echo "--nftables-config $LAB_DIR/nftables.conf --ufw-dir $LAB_DIR/ufw/etc/ufw --ufw-defaults $LAB_DIR/ufw/etc/default/ufw" \
    "--firewalld-dir $LAB_DIR/firewalld/etc/firewalld --firewalld-system-dir $fw_usr"
}

lab_in_ufw_view() {
  lab__ufw_prepare || return 1
  nsenter --net="/run/netns/$LAB_HOST" unshare --mount --propagation private sh -c '
    d=$1 c=$2
    shift 2
    mount -t overlay dfa-ufw-usr -o "lowerdir=$c/usr:/usr" /usr &&
      mount -t overlay dfa-ufw-etc -o "lowerdir=/etc,upperdir=$d/etc,workdir=$d/etc.work" /etc &&
      mount -t overlay dfa-ufw-run -o "lowerdir=/run,upperdir=$d/run,workdir=$d/run.work" /run &&
      exec "$@"' sh "$LAB_DIR/ufw" "$(cat "$LAB_DIR/ufw/cache")" "$@"
}

lab_ufw() { lab_in_ufw_view ufw "$@"; }

# firewalld: Debian 12's package (with python3-firewall and python3-nftables),
# unpacked and never installed, run as if installed in a private mount
# namespace entered into the lab host's network namespace, like ufw above:
# the package over /usr, a private /etc (its /etc/firewalld from the
# package) and /run, modprobe shown as /bin/true (the lab loads no kernel
# module on firewalld's behalf). Its system bus is a private dbus-daemon
# listening on $LAB_DIR/firewalld/bus.sock; dockerd is always pointed at
# that address (lab_dockerd_start), so Docker's firewalld integration (the
# docker zone, rules passed through firewalld) meets the lab's firewalld, and
# never a firewalld of the machine.
#   lab_firewalld_start      dbus-daemon and firewalld; then lab_dockerd_restart
#   lab_firewall_cmd ARGS... firewall-cmd against it
#   lab_in_firewalld_view CMD...  CMD in the lab host with firewalld's files in view
lab__firewalld_cache() { lab__pkg_cache firewalld-bookworm usr/sbin/firewalld firewalld python3-firewall python3-nftables; }

lab__firewalld_prepare() {
  [ -d "$LAB_DIR/firewalld/etc" ] && return 0
  local cache d=$LAB_DIR/firewalld backend=${LAB_FIREWALLD_IPTABLES:-$LAB_BACKEND} t
  cache=$(lab__firewalld_cache) || return 1
  mkdir -p "$d/etc/alternatives" "$d/run"
  cp -a "$cache/etc/firewalld" "$d/etc/firewalld"
  # firewalld's direct rules and Docker's passthrough run iptables.
  for t in iptables ip6tables; do
    ln -s "/usr/sbin/$t-$backend" "$d/etc/alternatives/$t"
    ln -s "/usr/sbin/$t-$backend-save" "$d/etc/alternatives/$t-save"
    ln -s "/usr/sbin/$t-$backend-restore" "$d/etc/alternatives/$t-restore"
  done
  cat >"$d/bus.conf" <<EOT
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=$d/bus.sock</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="root"/>
    <allow own="*"/>
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
EOT
  echo "$cache" >"$d/cache"
}

lab_in_firewalld_view() {
  lab__firewalld_prepare || return 1
  DBUS_SYSTEM_BUS_ADDRESS="unix:path=$LAB_DIR/firewalld/bus.sock" \
    nsenter --net="/run/netns/$LAB_HOST" unshare --mount --propagation private sh -c '
    d=$1 c=$2
    shift 2
    # A work directory of its own for each view: overlayfs empties its
    # workdir when it mounts, and firewalld mounting while the first
    # firewall-cmd --state did on the same workdir failed with ENOENT
    # ("special device dfa-fwd-etc does not exist"), firewalld never started.
    w=$(mktemp -d "$d/view.XXXXXX") && mkdir "$w/etc" "$w/run" &&
    mount -t overlay dfa-fwd-usr -o "lowerdir=$c/usr:/usr" /usr &&
      { [ ! -e /usr/sbin/modprobe ] || mount --bind /usr/bin/true /usr/sbin/modprobe; } &&
      mount -t overlay dfa-fwd-etc -o "lowerdir=/etc,upperdir=$d/etc,workdir=$w/etc" /etc &&
      mount -t overlay dfa-fwd-run -o "lowerdir=/run,upperdir=$d/run,workdir=$w/run" /run &&
      exec "$@"' sh "$LAB_DIR/firewalld" "$(cat "$LAB_DIR/firewalld/cache")" "$@"
}

lab_firewall_cmd() { lab_in_firewalld_view firewall-cmd "$@"; }

lab_firewalld_start() {
  lab__firewalld_prepare || return 1
  local d=$LAB_DIR/firewalld i try pid
  nsenter --net="/run/netns/$LAB_HOST" dbus-daemon --config-file="$d/bus.conf" --nofork --nopidfile \
    >>"$d/dbus.log" 2>&1 &
  for i in $(seq 1 300); do [ -S "$d/bus.sock" ] && break; sleep 0.1; done
  [ -S "$d/bus.sock" ] || { echo "lab: the private D-Bus did not start: $(tail -5 "$d/dbus.log")" >&2; return 1; }
  # A second try where the first firewalld exits during its start (seen once
  # with two labs starting side by side on 2 cores); its log is kept.
  for try in 1 2; do
    lab_in_firewalld_view firewalld --nofork --nopid --log-file "$d/firewalld.log" >>"$d/firewalld.out" 2>&1 &
    pid=$!
    for i in $(seq 1 300); do
      [ "$(lab_firewall_cmd --state 2>/dev/null)" = running ] && return 0
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.2
    done
    kill "$pid" 2>/dev/null || true  # gone already when it exited (errexit must not end the try)
    echo "lab: firewalld did not start (try $try):" >&2
    # Some of the logs may not exist yet (errexit must not end the try).
    tail -n 30 "$d/firewalld.out" "$d/firewalld.log" "$d/dbus.log" >&2 2>/dev/null || true
  done
  return 1
}

# What the lab must never change outside its namespaces: the root network
# namespace's rulesets (without counters; legacy tables only by their rules
# and non-accept policies, since the first legacy rule anywhere makes the
# kernel show empty tables everywhere), its forwarding sysctls, and the
# machine's ufw and firewalld configuration. Prints one digest.
lab_root_fingerprint() {
  {
    nft -s list ruleset 2>&1
    local t
    for t in iptables-legacy-save ip6tables-legacy-save; do
      "$t" 2>/dev/null | sed 's/ \[[0-9]*:[0-9]*\]$//' | grep -E '^-A |^:[^ ]+ (DROP|REJECT)$' || true
    done
    sysctl -n net.ipv4.ip_forward net.ipv6.conf.all.forwarding 2>&1
    ls -la --time-style=full-iso /etc/ufw /etc/default/ufw /etc/firewalld /run/ufw.lock 2>&1 || true
  } | sha256sum
}

lab_down() {
  # Runs from EXIT traps, often under set -euo pipefail: every step must run
  # whatever the one before it returned.
  local -
  set +e +o pipefail
  [ -n "${LAB_DIR:-}" ] || return 0
  if [ -S "$LAB_DIR/docker.sock" ]; then
    local ids
    ids=$(lab_docker ps -aq 2>/dev/null)
    [ -n "$ids" ] && lab_docker rm -f $ids >/dev/null 2>&1
  fi
  lab__dockerd_stop
  # Anything still mounted under the lab (overlay layers, netns bind mounts).
  grep -o " $LAB_DIR/[^ ]*" /proc/self/mounts 2>/dev/null | sort -r | while read -r m; do umount -l "$m" 2>/dev/null; done
  local ns
  for ns in "${LAB_HOST:-}" "${LAB_WAN:-}" "${LAB_LAN:-}"; do
    [ -n "$ns" ] || continue
    # Processes a scenario started in the namespace outlive it otherwise.
    ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null
    ip netns del "$ns" 2>/dev/null
  done
  rm -rf "$LAB_DIR"
  LAB_DIR=
}
