# redis-clone on the official Deno image (Debian based), version pinned.
#
# The build needs no network: the server imports only `node:` built-ins and
# local files, and the npm packages in deno.json's import map are used by the
# tests alone, which are not copied in (see .dockerignore), so nothing asks
# for them. tests/docker/ builds this file with `--network none` to keep it so.
FROM denoland/deno:2.9.3

# What the official Redis image does with protected mode: its entrypoint
# adds `--protected-mode no` unless a config file given as the first argument
# sets protected-mode itself, because a container is reachable only through
# the ports one publishes (the server's own default is Redis's: yes).
# `docker run -e REDIS_CLONE_PROTECTED_MODE=yes ...` overrides it.
ENV REDIS_CLONE_PROTECTED_MODE="no"

# The entrypoint: arguments of `docker run redis-clone ...` are the server's,
# so `-port 8080` and `-aof /app/database.aof` work as in the seed's README.
# `exec` makes the server PID 1: `docker stop` sends it SIGTERM, which takes
# the server's clean shutdown path (AOF written and fsynced, exit code 0).
# The permissions are those of `deno task start` (FFI for the C library only:
# raising the open-files limit, giving freed memory back); --cached-only makes a
# missing module an error at once instead of an attempt to download it.
RUN printf '%s\n' \
    '#!/bin/sh' \
    '# redis-clone image entrypoint (written by the Dockerfile, which explains it).' \
    'set -e' \
    'case "${1:-}" in -v|--version|-h|--help) REDIS_CLONE_PROTECTED_MODE= ;; esac' \
    'if [ -n "$REDIS_CLONE_PROTECTED_MODE" ]; then' \
    '  if [ -f "${1:-}" ]; then' \
    '    if ! grep -q "^protected-mode" "$1"; then' \
    '      config_file=$1' \
    '      shift' \
    '      set -- "$config_file" --protected-mode "$REDIS_CLONE_PROTECTED_MODE" "$@"' \
    '    fi' \
    '  else' \
    '    set -- --protected-mode "$REDIS_CLONE_PROTECTED_MODE" "$@"' \
    '  fi' \
    'fi' \
    'exec deno run --cached-only --config /opt/redis-clone/deno.json \' \
    '  --allow-net --allow-read --allow-write \' \
    '  --allow-ffi=/usr/lib/x86_64-linux-gnu/libc.so.6,/lib/x86_64-linux-gnu/libc.so.6,/usr/lib/aarch64-linux-gnu/libc.so.6,/lib/aarch64-linux-gnu/libc.so.6 \' \
    '  /opt/redis-clone/src/main.ts "$@"' \
    > /usr/local/bin/redis-clone-entrypoint \
  && chmod 755 /usr/local/bin/redis-clone-entrypoint

# The program lives outside /app: the seed's README mounts a host folder over
# /app (`-v $(pwd)/data:/app`) to keep the AOF, which would hide anything there.
WORKDIR /opt/redis-clone
COPY deno.json deno.lock ./
COPY src/ ./src/
# Type-check the server (`deno cache` alone only downloads, and there is
# nothing to download), so a type error fails the build rather than a
# container. Then start it once through the entrypoint (`--version` loads
# every module and exits): that proves the entrypoint works and leaves V8's
# code cache in DENO_DIR, which makes every container start about 0.1 s sooner.
RUN deno cache --check --frozen-lockfile src/main.ts \
  && /usr/local/bin/redis-clone-entrypoint --version

# /app is the working directory, so the default AOF is /app/database.aof.
# The image's default user (root) is kept on purpose: a host folder mounted
# over /app belongs to the host's user, and the server must be able to write
# its AOF there.
WORKDIR /app
EXPOSE 6379

# Listening on all interfaces (the default --bind 0.0.0.0) lets -p publish it.
ENTRYPOINT ["/usr/local/bin/redis-clone-entrypoint"]
CMD []
