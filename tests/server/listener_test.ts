/**
 * The accept loop survives every per-connection failure: peers that reset
 * before they are accepted, and running out of file descriptors.
 */

import assert from "node:assert/strict";
import { LOOPBACK, RawClient, sleep, startOurServer } from "../helpers/servers.ts";

const PYTHON = "/usr/bin/python3";

function pythonAvailable(): boolean {
  try {
    return Deno.statSync(PYTHON).isFile;
  } catch {
    return false;
  }
}

/** Opens `count` connections that each close with a TCP reset (SO_LINGER 0). */
async function resetConnections(port: number, count: number): Promise<void> {
  const script = `
import socket, struct
for _ in range(${count}):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.connect(("${LOOPBACK}", ${port}))
    s.close()
`;
  const { code, stderr } = await new Deno.Command(PYTHON, { args: ["-c", script] }).output();
  assert.equal(code, 0, new TextDecoder().decode(stderr));
}

Deno.test({
  name: "listener: 1,000 connections reset right after connecting do not stop accepting",
  ignore: !pythonAvailable(),
  fn: async () => {
    await using server = await startOurServer();
    await resetConnections(server.port, 1000);
    await using client = await RawClient.connect(server.port);
    assert.equal(new TextDecoder().decode(await client.command("PING")), "+PONG\r\n");
  },
});
if (!pythonAvailable()) console.warn(`${PYTHON} missing: SKIPPING the connection reset test`);

Deno.test("listener: running out of descriptors costs only the connections refused", async () => {
  await using server = await startOurServer({ descriptorLimit: 128 });
  const held: Deno.TcpConn[] = [];
  try {
    // More connections than the server has descriptors: the excess waits or is refused.
    for (let i = 0; i < 200; i++) {
      try {
        held.push(await Deno.connect({ hostname: LOOPBACK, port: server.port }));
      } catch {
        break;
      }
    }
    await sleep(500);
    // The last connection is over the limit either way: refused with Redis's error once
    // accepted, or never accepted when the descriptors ran out (logged).
    const last = held[held.length - 1]!;
    const buffer = new Uint8Array(256);
    const count = await Promise.race([last.read(buffer), sleep(1000).then(() => null)]);
    const answer = new TextDecoder().decode(buffer.subarray(0, count ?? 0));
    if (!answer.startsWith("-ERR max number of clients reached")) {
      assert.match(server.stderr(), /Accepting client connection: .*Too many open files/);
    }
  } finally {
    for (const conn of held) conn.close();
  }
  // Once descriptors are free again, new clients are served.
  let answered = "";
  for (let attempt = 0; attempt < 50 && answered === ""; attempt++) {
    try {
      await using client = await RawClient.connect(server.port);
      answered = new TextDecoder().decode(await client.command("PING"));
    } catch {
      await sleep(100);
    }
  }
  assert.equal(answered, "+PONG\r\n");
});
