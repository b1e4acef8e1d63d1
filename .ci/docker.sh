#!/usr/bin/env bash
# A Docker daemon and the image's base for tests/docker/ on a machine that has
# neither: no daemon runs here and no image registry is reachable.
#
#   bash .ci/docker.sh          start (or reuse) the daemon, make sure the base
#                               image is in it, print DOCKER_HOST=... on stdout
#   bash .ci/docker.sh stop     stop the daemon this script started
#
# Progress goes to stderr and the only line on stdout is DOCKER_HOST=..., so
# a caller can `export "$(bash .ci/docker.sh)"`. It exits non-zero, saying
# why, when the daemon cannot be started.
#
# The daemon is Debian's dockerd with its roots in /tmp and the host's network
# left alone (no iptables rules, no bridge, no IP forwarding): containers run
# with `--network host`. Its state outlives a run, so a rerun reuses a daemon
# that still answers, or restarts one on the same data and keeps the images.
#
# The base image stands in for the official denoland/deno:$DENO_VERSION (see
# the README's Docker section for how it differs): Debian bookworm from
# debootstrap, the same Deno binary from the npm registry, the official
# image's user, paths, environment and entrypoint. Building it takes a few
# minutes once; the root file system is cached as a tar file under
# ~/.cache/redis-clone-docker, so later runs only import it.
set -euo pipefail

DENO_VERSION=2.9.3
BASE_IMAGE="denoland/deno:$DENO_VERSION"
# Bumped when the recipe below changes, so a cached root file system from an
# older recipe is not reused.
RECIPE=1
DEBIAN_SUITE=bookworm
DEBIAN_MIRROR=http://deb.debian.org/debian

STATE_DIR=${REDIS_CLONE_DOCKERD_DIR:-/tmp/redis-clone-dockerd}
CACHE_DIR=${REDIS_CLONE_DOCKER_CACHE:-${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/redis-clone-docker}
SOCKET="$STATE_DIR/docker.sock"
PID_FILE="$STATE_DIR/dockerd.pid"
LOG_FILE="$STATE_DIR/dockerd.log"
ROOTFS_TAR="$CACHE_DIR/deno-$DENO_VERSION-$DEBIAN_SUITE-recipe$RECIPE.tar"
export DOCKER_HOST="unix://$SOCKET"

say() { echo "== docker.sh: $*" >&2; }
fail() {
  echo "== docker.sh: FAILED: $*" >&2
  exit 1
}

daemon_answers() { docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }

stop_daemon() {
  if [ -f "$PID_FILE" ]; then
    local pid
    pid=$(cat "$PID_FILE")
    if kill -0 "$pid" 2>/dev/null; then
      say "stopping dockerd (pid $pid)"
      kill -TERM "$pid"
      for _ in $(seq 1 150); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.2
      done
      kill -0 "$pid" 2>/dev/null && fail "dockerd (pid $pid) did not stop within 30 s"
    fi
    rm -f "$PID_FILE"
  fi
  # What dockerd leaves mounted after it exits (its network namespace handle
  # and the data root), so the state folder can be deleted.
  umount "$STATE_DIR/exec/netns/default" 2>/dev/null || true
  umount "$STATE_DIR/data" 2>/dev/null || true
  return 0
}

install_missing() {
  local packages=()
  command -v dockerd >/dev/null 2>&1 || packages+=(docker.io)
  command -v debootstrap >/dev/null 2>&1 || packages+=(debootstrap)
  # docker.io brings a client too; a newer one already on PATH is kept.
  [ "${#packages[@]}" -eq 0 ] && return 0
  say "installing ${packages[*]} from Debian"
  export DEBIAN_FRONTEND=noninteractive
  { apt-get update && apt-get install -y --no-install-recommends "${packages[@]}"; } >&2 ||
    fail "apt-get install ${packages[*]}"
}

start_daemon() {
  if daemon_answers; then
    say "reusing the dockerd that answers on $SOCKET"
    return 0
  fi
  stop_daemon
  mkdir -p "$STATE_DIR/data" "$STATE_DIR/exec"
  rm -f "$SOCKET"
  say "starting dockerd (log: $LOG_FILE)"
  # setsid and the redirections detach it from the caller, whose command
  # substitution would otherwise wait for dockerd to close stdout.
  setsid dockerd \
    --iptables=false --ip6tables=false --ip-forward=false --bridge=none \
    --data-root "$STATE_DIR/data" --exec-root "$STATE_DIR/exec" \
    --pidfile "$PID_FILE" --host "$DOCKER_HOST" \
    </dev/null >"$LOG_FILE" 2>&1 &
  for _ in $(seq 1 150); do
    daemon_answers && return 0
    sleep 0.2
  done
  tail -n 20 "$LOG_FILE" >&2 || true
  fail "dockerd did not answer on $SOCKET within 30 s (the last lines of its log are above)"
}

# Writes the stand-in's entrypoint: the official image's docker-entrypoint.sh
# runs `deno "$@"` when the first argument is a Deno subcommand or an option
# and the command itself otherwise.
write_entrypoint() {
  cat >"$1" <<'EOF'
#!/bin/sh
# Stand-in for denoland/deno's docker-entrypoint.sh (see .ci/docker.sh).
set -e
case "$1" in
  -*) exec deno "$@" ;;
  add | bench | cache | check | clean | compile | completions | coverage | deploy | doc | eval | \
    fmt | help | info | init | install | jupyter | lint | lsp | outdated | publish | remove | \
    repl | run | serve | task | test | types | uninstall | update | upgrade | x)
    exec deno "$@" ;;
esac
exec "$@"
EOF
  chmod 755 "$1"
}

build_rootfs() {
  local work
  work=$(mktemp -d /tmp/redis-clone-rootfs.XXXXXX)
  # shellcheck disable=SC2064 # expand $work now: it is local
  trap "rm -rf '$work'" EXIT
  local rootfs="$work/rootfs"
  say "debootstrap $DEBIAN_SUITE (minbase) into $rootfs; this takes a few minutes once"
  local started=$SECONDS
  debootstrap --variant=minbase --include=tini "$DEBIAN_SUITE" "$rootfs" "$DEBIAN_MIRROR" >&2 ||
    fail "debootstrap $DEBIAN_SUITE (see its log above)"

  say "fetching the Deno $DENO_VERSION binary from the npm registry (@deno/linux-x64-glibc)"
  (cd "$work" && npm pack --silent "@deno/linux-x64-glibc@$DENO_VERSION" >&2) ||
    fail "npm pack @deno/linux-x64-glibc@$DENO_VERSION"
  tar -xzf "$work"/deno-linux-x64-glibc-*.tgz -C "$work" package/deno
  install -m 755 "$work/package/deno" "$rootfs/usr/bin/deno"
  "$rootfs/usr/bin/deno" --version >&2

  # The official image's layout: a `deno` user (uid 1993) that is not the
  # default user, /deno-dir as DENO_DIR, tini at /tini.
  chroot "$rootfs" useradd --uid 1993 --user-group deno
  mkdir "$rootfs/deno-dir"
  chroot "$rootfs" chown deno:deno /deno-dir
  ln -s /usr/bin/tini-static "$rootfs/tini"
  write_entrypoint "$rootfs/usr/local/bin/docker-entrypoint.sh"

  # What debian:*-slim leaves out, and what only the build needed.
  rm -rf "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* \
    "$rootfs"/usr/share/locale/* "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin \
    "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/log/* "$rootfs"/tmp/*
  : >"$rootfs/etc/resolv.conf"
  : >"$rootfs/etc/hostname"

  mkdir -p "$CACHE_DIR"
  tar --numeric-owner -C "$rootfs" -cf "$ROOTFS_TAR.partial" .
  mv "$ROOTFS_TAR.partial" "$ROOTFS_TAR"
  rm -rf "$work"
  trap - EXIT
  say "root file system built in $((SECONDS - started)) s: $ROOTFS_TAR"
}

import_base_image() {
  if docker image inspect "$BASE_IMAGE" >/dev/null 2>&1 &&
    [ "$(docker image inspect --format '{{index .Config.Labels "redis-clone.recipe"}}' "$BASE_IMAGE")" = "$RECIPE" ]; then
    say "$BASE_IMAGE is already in the daemon"
    return 0
  fi
  [ -f "$ROOTFS_TAR" ] || build_rootfs
  say "importing $ROOTFS_TAR as $BASE_IMAGE"
  docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV DENO_DIR=/deno-dir/' \
    --change 'ENV DENO_INSTALL_ROOT=/usr/local' \
    --change "ENV DENO_VERSION=$DENO_VERSION" \
    --change "LABEL redis-clone.recipe=$RECIPE" \
    --change 'ENTRYPOINT ["/tini", "--", "docker-entrypoint.sh"]' \
    --change 'CMD ["eval", "console.log('"'"'Welcome to Deno!'"'"')"]' \
    "$ROOTFS_TAR" "$BASE_IMAGE" >&2 || fail "docker import $ROOTFS_TAR"
}

case "${1:-start}" in
  stop)
    stop_daemon
    exit 0
    ;;
  start) ;;
  *) fail "unknown argument '$1' (expected nothing or 'stop')" ;;
esac

[ "$(id -u)" = 0 ] || fail "dockerd must start as root (this is uid $(id -u))"
install_missing
start_daemon
import_base_image
echo "DOCKER_HOST=$DOCKER_HOST"
