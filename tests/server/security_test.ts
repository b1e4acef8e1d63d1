/**
 * Only who should get in: protected mode (a 127.0.0.2 source address counts
 * as remote, as for Redis), passwords and AUTH, ACL users through the real
 * clients' username/password options, TLS with certificates made by
 * openssl at run time, bind lists, and start-up refusals.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { Redis } from "ioredis";
import { createClient } from "redis";
import { LOOPBACK, RawClient, redisCliPath, sleep, startOurServer } from "../helpers/servers.ts";
import { query } from "../helpers/test_support.ts";

const sanitizers = { sanitizeOps: false, sanitizeResources: false };
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

/** Connects from `source` (a loopback address) and returns the first bytes the server sends. */
async function firstBytesFrom(source: string, port: number, request: string): Promise<string> {
  const conn = await Deno.connect({ hostname: LOOPBACK, port, transport: "tcp" });
  // Deno cannot choose the source address: use node:net's localAddress.
  conn.close();
  const net = await import("node:net");
  return await new Promise((resolve, reject) => {
    let received = "";
    const socket = net.connect({ host: LOOPBACK, port, localAddress: source }, () => {
      socket.write(request);
    });
    socket.setTimeout(2000, () => socket.destroy());
    socket.on("data", (chunk: Uint8Array) => received += new TextDecoder().decode(chunk));
    socket.on("error", reject);
    socket.on("close", () => resolve(received));
  });
}

const PROTECTED_MODE =
  /^-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user\. In this mode connections are only accepted from the loopback interface\..*4\) Setup a an authentication password for the default user\. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside\.\r\n$/;

Deno.test("protected mode: without a password, a client from 127.0.0.2 is refused and closed", async () => {
  await using server = await startOurServer();
  assert.match(await firstBytesFrom("127.0.0.2", server.port, "PING\r\n"), PROTECTED_MODE);
  await using local = await RawClient.connect(server.port);
  assert.equal(text(await local.command("PING")), "+PONG\r\n");
  assert.match(String(await query(local, "INFO", "stats")), /rejected_connections:1\r\n/);
  assert.deepEqual(await query(local, "CONFIG", "GET", "protected-mode"), [
    "protected-mode",
    "yes",
  ]);
  // Turning it off lets the remote client in.
  assert.equal(await query(local, "CONFIG", "SET", "protected-mode", "no"), "OK");
  assert.equal(
    await firstBytesFrom("127.0.0.2", server.port, "PING\r\nQUIT\r\n"),
    "+PONG\r\n+OK\r\n",
  );
});

Deno.test("protected mode: once the default user has a password, remote clients must AUTH", async () => {
  await using server = await startOurServer({ args: ["--requirepass", "s3cret"] });
  assert.equal(
    await firstBytesFrom("127.0.0.2", server.port, "PING\r\nAUTH s3cret\r\nPING\r\nQUIT\r\n"),
    "-NOAUTH Authentication required.\r\n+OK\r\n+PONG\r\n+OK\r\n",
  );
});

Deno.test("requirepass: NOAUTH, WRONGPASS, AUTH and HELLO AUTH as Redis answers them", async () => {
  await using server = await startOurServer({ args: ["--requirepass", "s3cret"] });
  await using client = await RawClient.connect(server.port);
  const raw = async (...args: string[]) => text(await client.command(...args));
  assert.equal(await raw("GET", "k"), "-NOAUTH Authentication required.\r\n");
  assert.equal(
    await raw("HELLO", "3"),
    "-NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time\r\n",
  );
  assert.equal(
    await raw("AUTH", "wrong"),
    "-WRONGPASS invalid username-password pair or user is disabled.\r\n",
  );
  assert.equal(
    await raw("AUTH", "default", "wrong"),
    "-WRONGPASS invalid username-password pair or user is disabled.\r\n",
  );
  assert.match(await raw("HELLO", "3", "AUTH", "default", "s3cret"), /^%7\r\n/);
  assert.equal(await raw("GET", "k"), "_\r\n");
  // The password is stored hashed, and CONFIG GET gives back what was set, as in Redis.
  assert.match(await raw("ACL", "LIST"), /user default on #[0-9a-f]{64} ~\* &\* \+@all/);
  assert.equal(await raw("CONFIG", "SET", "requirepass", "other"), "+OK\r\n");
  await using second = await RawClient.connect(server.port);
  assert.equal(
    text(await second.command("AUTH", "s3cret")),
    "-WRONGPASS invalid username-password pair or user is disabled.\r\n",
  );
  assert.equal(text(await second.command("AUTH", "other")), "+OK\r\n");
  // The failures are in ACL LOG.
  assert.match(await raw("ACL", "LOG"), /auth/);
});

Deno.test({
  name: "ACL users work through redis-cli, ioredis and node-redis username/password options",
  ...sanitizers,
  async fn() {
    await using server = await startOurServer();
    await using admin = await RawClient.connect(server.port);
    assert.equal(
      await query(
        admin,
        "ACL",
        "SETUSER",
        "app",
        "on",
        ">app-pw",
        "~app:*",
        "+@read",
        "+@write",
        "-flushall",
      ),
      "OK",
    );
    await query(admin, "SET", "other", "x");

    const cli = redisCliPath();
    if (cli === undefined) {
      console.warn("redis-cli not installed: SKIPPING its part");
    } else {
      const run = async (...args: string[]) => {
        const { stdout } = await new Deno.Command(cli, {
          args: [
            "-p",
            String(server.port),
            "--user",
            "app",
            "--pass",
            "app-pw",
            "--no-auth-warning",
            ...args,
          ],
        }).output();
        return new TextDecoder().decode(stdout).trim();
      };
      assert.equal(await run("SET", "app:1", "v"), "OK");
      assert.equal(await run("GET", "app:1"), "v");
      assert.match(
        await run("GET", "other"),
        /NOPERM this user has no permissions to access one of the keys used as arguments/,
      );
      assert.match(
        await run("FLUSHALL"),
        /NOPERM this user has no permissions to run the 'flushall' command/,
      );
    }

    const ioredis = new Redis({
      port: server.port,
      host: LOOPBACK,
      username: "app",
      password: "app-pw",
      lazyConnect: true,
    });
    try {
      await ioredis.connect();
      assert.equal(await ioredis.set("app:2", "io"), "OK");
      assert.equal(await ioredis.get("app:2"), "io");
      await assert.rejects(ioredis.get("other"), /NOPERM/);
    } finally {
      ioredis.disconnect();
    }
    const badPassword = new Redis({
      port: server.port,
      host: LOOPBACK,
      username: "app",
      password: "nope",
      lazyConnect: true,
      retryStrategy: () => null,
      maxRetriesPerRequest: 0,
    });
    const errors: string[] = [];
    badPassword.on("error", (error: Error) => errors.push(error.message));
    try {
      await badPassword.connect().catch((error: Error) => errors.push(error.message));
      assert.ok(errors.some((message) => /WRONGPASS/.test(message)), errors.join("; "));
    } finally {
      badPassword.disconnect();
    }

    const nodeRedis = createClient({
      socket: { port: server.port, host: LOOPBACK },
      username: "app",
      password: "app-pw",
    });
    nodeRedis.on("error", () => {});
    await nodeRedis.connect();
    try {
      assert.equal(await nodeRedis.set("app:3", "node"), "OK");
      assert.equal(await nodeRedis.get("app:3"), "node");
      await assert.rejects(nodeRedis.get("other"), /NOPERM/);
    } finally {
      await nodeRedis.quit();
    }

    // Changing the user disconnects nobody but deleting it disconnects its clients.
    await using appClient = await RawClient.connect(server.port);
    assert.equal(await query(appClient, "AUTH", "app", "app-pw"), "OK");
    assert.equal(await query(admin, "ACL", "DELUSER", "app"), 1);
    await sleep(100);
    await assert.rejects(appClient.command("PING"));
    assert.equal(await query(admin, "ACL", "WHOAMI"), "default");
  },
});

Deno.test("users from a config file and an aclfile load at start-up; ACL SAVE writes the file", async () => {
  const dir = await Deno.makeTempDir({ prefix: "redis-clone-acl-" });
  try {
    const aclfile = join(dir, "users.acl");
    await Deno.writeTextFile(
      aclfile,
      "user default on nopass ~* &* +@all\nuser ops on >ops-pw ~* +@all\n",
    );
    await using server = await startOurServer({ args: ["--aclfile", aclfile] });
    await using client = await RawClient.connect(server.port);
    assert.equal(await query(client, "AUTH", "ops", "ops-pw"), "OK");
    assert.equal(await query(client, "ACL", "SETUSER", "late", "on", ">x"), "OK");
    assert.equal(await query(client, "ACL", "SAVE"), "OK");
    assert.match(
      await Deno.readTextFile(aclfile),
      /^user late on #[0-9a-f]{64} resetchannels -@all$/m,
    );

    const config = join(dir, "redis.conf");
    await Deno.writeTextFile(config, "user worker on >w ~jobs:* +@list\n");
    await using fromConfig = await startOurServer({ configFile: config });
    await using worker = await RawClient.connect(fromConfig.port);
    assert.equal(await query(worker, "AUTH", "worker", "w"), "OK");
    assert.equal(await query(worker, "LPUSH", "jobs:a", "1"), 1);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("bad ACL input at start-up: a one-line message and exit code 1", async () => {
  const dir = await Deno.makeTempDir({ prefix: "redis-clone-acl-" });
  try {
    const aclfile = join(dir, "users.acl");
    await Deno.writeTextFile(aclfile, "user alice on +nosuchcommand\n");
    await assert.rejects(
      startOurServer({ args: ["--aclfile", aclfile] }),
      /exited|Unknown command/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** Makes a CA, a server certificate for 127.0.0.1 and a client certificate, with openssl. */
async function makeCertificates(dir: string): Promise<boolean> {
  const openssl = async (...args: string[]) => {
    const { code, stderr } = await new Deno.Command("openssl", { args, cwd: dir }).output();
    if (code !== 0) throw new Error(new TextDecoder().decode(stderr));
  };
  try {
    await openssl(
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-keyout",
      "ca.key",
      "-out",
      "ca.crt",
      "-days",
      "2",
      "-subj",
      "/CN=redis-clone-test-ca",
    );
    await Deno.writeTextFile(
      join(dir, "server.ext"),
      "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n",
    );
    await Deno.writeTextFile(join(dir, "client.ext"), "extendedKeyUsage=clientAuth\n");
    for (const name of ["server", "client"]) {
      await openssl(
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        `${name}.key`,
        "-out",
        `${name}.csr`,
        "-subj",
        `/CN=${name}`,
      );
      await openssl(
        "x509",
        "-req",
        "-in",
        `${name}.csr`,
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        `${name}.crt`,
        "-days",
        "2",
        "-extfile",
        `${name}.ext`,
      );
    }
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

Deno.test({
  name:
    "TLS: redis-cli, ioredis and node-redis over tls-port, client certificates as tls-auth-clients says",
  ...sanitizers,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "redis-clone-tls-" });
    try {
      if (!await makeCertificates(dir)) {
        console.warn("openssl not installed: SKIPPING the TLS test");
        return;
      }
      const file = (name: string) => join(dir, name);
      const probe = Deno.listen({ hostname: LOOPBACK, port: 0 });
      const tlsPort = (probe.addr as Deno.NetAddr).port;
      probe.close();
      await using server = await startOurServer({
        args: [
          "--tls-port",
          String(tlsPort),
          "--tls-cert-file",
          file("server.crt"),
          "--tls-key-file",
          file("server.key"),
          "--tls-ca-cert-file",
          file("ca.crt"),
        ],
      });
      const cli = redisCliPath();
      if (cli !== undefined) {
        const run = async (...args: string[]) => {
          const { stdout, stderr } = await new Deno.Command(cli, {
            args: ["-p", String(tlsPort), "--tls", "--cacert", file("ca.crt"), ...args],
          }).output();
          return new TextDecoder().decode(stdout).trim() + new TextDecoder().decode(stderr).trim();
        };
        assert.equal(
          await run("--cert", file("client.crt"), "--key", file("client.key"), "PING"),
          "PONG",
        );
        // tls-auth-clients yes (Redis's default): no client certificate, no connection.
        assert.doesNotMatch(await run("PING"), /PONG/);
      } else {
        console.warn("redis-cli not installed: SKIPPING its TLS part");
      }
      const ca = await Deno.readTextFile(file("ca.crt"));
      const cert = await Deno.readTextFile(file("client.crt"));
      const key = await Deno.readTextFile(file("client.key"));
      const ioredis = new Redis({
        port: tlsPort,
        host: LOOPBACK,
        tls: { ca, cert, key },
        lazyConnect: true,
      });
      try {
        await ioredis.connect();
        assert.equal(await ioredis.set("tls", "yes"), "OK");
        assert.equal(await ioredis.get("tls"), "yes");
      } finally {
        ioredis.disconnect();
      }
      const nodeRedis = createClient({
        socket: { port: tlsPort, host: LOOPBACK, tls: true, ca, cert, key },
      });
      nodeRedis.on("error", () => {});
      await nodeRedis.connect();
      try {
        assert.equal(await nodeRedis.get("tls"), "yes");
      } finally {
        await nodeRedis.quit();
      }
      // The plain port serves too, as configured.
      await using plain = await RawClient.connect(server.port);
      assert.equal(await query(plain, "GET", "tls"), "yes");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "TLS with tls-auth-clients no, and port 0: TLS only, no client certificate needed",
  ...sanitizers,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "redis-clone-tls-" });
    try {
      if (!await makeCertificates(dir)) {
        console.warn("openssl not installed: SKIPPING the TLS test");
        return;
      }
      const file = (name: string) => join(dir, name);
      const probe = Deno.listen({ hostname: LOOPBACK, port: 0 });
      const tlsPort = (probe.addr as Deno.NetAddr).port;
      probe.close();
      await using server = await startOurServer({
        portArgument: false,
        args: [
          "--port",
          "0",
          "--tls-port",
          String(tlsPort),
          "--tls-cert-file",
          file("server.crt"),
          "--tls-key-file",
          file("server.key"),
          "--tls-auth-clients",
          "no",
        ],
        readyLine: /Ready to accept connections tls on/,
      });
      const ioredis = new Redis({
        port: tlsPort,
        host: LOOPBACK,
        tls: { ca: await Deno.readTextFile(file("ca.crt")) },
        lazyConnect: true,
      });
      try {
        await ioredis.connect();
        assert.equal(await ioredis.ping(), "PONG");
      } finally {
        ioredis.disconnect();
      }
      assert.match(server.stderr(), /Ready to accept connections tls on/);
      assert.doesNotMatch(server.stderr(), /Ready to accept connections tcp on/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("an unreadable certificate stops start-up with one line and exit code 1", async () => {
  const probe = Deno.listen({ hostname: LOOPBACK, port: 0 });
  const tlsPort = (probe.addr as Deno.NetAddr).port;
  probe.close();
  await assert.rejects(
    startOurServer({
      args: [
        "--tls-port",
        String(tlsPort),
        "--tls-cert-file",
        "/nonexistent/cert.pem",
        "--tls-key-file",
        "/nonexistent/key.pem",
        "--tls-auth-clients",
        "no",
      ],
    }),
    /exited with code 1[^]*Failed to configure TLS: cannot read tls-cert-file '\/nonexistent\/cert\.pem'/,
  );
});

Deno.test("bind takes a list: 127.0.0.1 and ::1 both answer, optional addresses may fail", async () => {
  await using server = await startOurServer({
    args: ["--bind", "127.0.0.1", "-::1", "-192.0.2.1"],
  });
  const v6 = await Deno.connect({ hostname: "::1", port: server.port }).catch(() => undefined);
  if (v6 === undefined) {
    console.warn("no IPv6 loopback here: SKIPPING the ::1 part");
  } else {
    await v6.write(new TextEncoder().encode("PING\r\n"));
    const buffer = new Uint8Array(16);
    const count = await v6.read(buffer);
    v6.close();
    assert.equal(text(buffer.subarray(0, count ?? 0)), "+PONG\r\n");
  }
  assert.deepEqual(
    await (async () => {
      await using client = await RawClient.connect(server.port);
      return await query(client, "CONFIG", "GET", "bind");
    })(),
    ["bind", "127.0.0.1 -::1 -192.0.2.1"],
  );
});
