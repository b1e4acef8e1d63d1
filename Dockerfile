# redis-clone on the official Deno image (Debian based), version pinned.
FROM denoland/deno:2.9.3

# The program lives outside /app: the seed's README mounts a host folder over
# /app (`-v $(pwd)/data:/app`) to keep the AOF, which would hide anything there.
WORKDIR /opt/redis-clone
COPY deno.json deno.lock ./
COPY src/ ./src/
# Cache and type-check the server at build time so containers start at once.
RUN deno cache src/main.ts

# /app is the working directory, so the default AOF is /app/database.aof.
# The image's default user (root) is kept on purpose: a host folder mounted
# over /app belongs to the host's user, and the server must be able to write
# its AOF there.
WORKDIR /app
EXPOSE 6379

# Listening on all interfaces (the default --bind 0.0.0.0) lets -p publish it.
# Arguments of `docker run redis-clone ...` are appended, so `-port 8080` and
# `-aof /app/database.aof` work as in the seed's README.
ENTRYPOINT ["deno", "run", "--config", "/opt/redis-clone/deno.json", "--allow-net", "--allow-read", "--allow-write", "/opt/redis-clone/src/main.ts"]
CMD []
