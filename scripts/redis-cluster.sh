#!/usr/bin/env bash
# A throwaway Redis Cluster for the Redis Cluster contract tests (test/contract/redis-cluster.test.ts):
# three masters, no replicas, on 127.0.0.1:7001-7003 (cluster bus on 17001-17003), nothing saved to
# disk, data directories under /tmp.
#
#   bash scripts/redis-cluster.sh start   # idempotent: exits 0 at once when the cluster is up
#   bash scripts/redis-cluster.sh stop    # shuts the three nodes down and removes their directories
#
# Uses the redis-server and redis-cli on PATH (Redis >= 7.0). The test run calls `start` itself
# when nothing answers on 7001 (test/setup/redis-cluster.ts), and `stop` once it is done with it.
# Where flock(1) exists, a start and a stop never run at the same time as another.
set -euo pipefail

PORTS=(7001 7002 7003)
HOST=127.0.0.1
BASE_DIR="${STRONGROOM_REDIS_CLUSTER_DIR:-/tmp/strongroom-redis-cluster}"
WAIT_SECONDS=30

cli() {
  local port=$1
  shift
  redis-cli -h "$HOST" -p "$port" "$@"
}

answers() {
  cli "$1" ping 2>/dev/null | grep -q '^PONG'
}

cluster_info() {
  cli "$1" cluster info 2>/dev/null | tr -d '\r' | grep "^$2:" | cut -d: -f2
}

# Up means: every node answers, sees the cluster as ok, and knows all three masters.
cluster_up() {
  local port
  for port in "${PORTS[@]}"; do
    answers "$port" || return 1
    [[ "$(cluster_info "$port" cluster_state)" == ok ]] || return 1
    [[ "$(cluster_info "$port" cluster_known_nodes)" == "${#PORTS[@]}" ]] || return 1
  done
}

wait_until() {
  local what=$1
  shift
  local deadline=$((SECONDS + WAIT_SECONDS))
  until "$@"; do
    if ((SECONDS >= deadline)); then
      echo "redis-cluster: timed out after ${WAIT_SECONDS}s waiting for $what" >&2
      return 1
    fi
    sleep 0.2
  done
}

start_node() {
  local port=$1
  local dir="$BASE_DIR/$port"
  mkdir -p "$dir"
  redis-server \
    --port "$port" \
    --bind "$HOST" \
    --cluster-enabled yes \
    --cluster-config-file nodes.conf \
    --cluster-node-timeout 5000 \
    --save '' \
    --appendonly no \
    --dir "$dir" \
    --logfile "$dir/redis.log" \
    --pidfile "$dir/redis.pid" \
    --daemonize yes 9>&- # not the lock's descriptor: a daemon holding it would hold the lock
  wait_until "127.0.0.1:$port to answer" answers "$port"
}

start() {
  if cluster_up; then
    echo "redis-cluster: already up on ${PORTS[*]}"
    return 0
  fi
  local port
  for port in "${PORTS[@]}"; do
    answers "$port" || start_node "$port"
  done
  # Nodes that come back after a crash may rejoin on their own; give them a moment first.
  if [[ "$(cluster_info "${PORTS[0]}" cluster_slots_assigned)" == 16384 ]] &&
    wait_until "the cluster to settle" cluster_up 2>/dev/null; then
    echo "redis-cluster: up on ${PORTS[*]}"
    return 0
  fi
  # A fresh or half-formed cluster: forget every previous membership and create it anew.
  for port in "${PORTS[@]}"; do
    cli "$port" flushall >/dev/null
    cli "$port" cluster reset hard >/dev/null
  done
  local nodes=()
  for port in "${PORTS[@]}"; do nodes+=("$HOST:$port"); done
  redis-cli --cluster create "${nodes[@]}" --cluster-replicas 0 --cluster-yes >/dev/null
  wait_until "cluster_state:ok on every node" cluster_up
  echo "redis-cluster: up on ${PORTS[*]}"
}

stop() {
  local port
  for port in "${PORTS[@]}"; do
    if answers "$port"; then
      cli "$port" shutdown nosave >/dev/null 2>&1 || true
    fi
  done
  for port in "${PORTS[@]}"; do
    wait_until "127.0.0.1:$port to stop" bash -c "! redis-cli -h $HOST -p $port ping >/dev/null 2>&1"
  done
  rm -rf "$BASE_DIR"
  echo "redis-cluster: stopped"
}

# Two test runs starting at once would both create the cluster; serialise them.
lock() {
  if command -v flock >/dev/null; then
    exec 9>"$BASE_DIR.lock"
    flock 9
  fi
}

case "${1:-}" in
  start) lock && start ;;
  stop) lock && stop ;;
  *)
    echo "usage: $0 start|stop" >&2
    exit 2
    ;;
esac
