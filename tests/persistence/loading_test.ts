/**
 * While the AOF loads at start-up the server already accepts connections,
 * as Redis does: commands get -LOADING, except those flagged `loading`
 * (INFO shows `loading:1`), and once the data is in everything answers.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { encodeCommand, freePort, ourServerCommand, RawClient, sleep } from "../helpers/servers.ts";
import { SERVER_TEST, tempDir } from "./helpers.ts";

/** Enough commands (14 MB) that loading turns the event loop several times (every 2 MB). */
const COMMANDS = 300_000;

/** Writes `big.aof`, an AOF of `COMMANDS` SETs. */
async function writeBigAof(dir: string): Promise<void> {
  const file = await Deno.open(join(dir, "big.aof"), {
    write: true,
    create: true,
  });
  try {
    const chunk: Uint8Array[] = [];
    let size = 0;
    const flush = async () => {
      const bytes = new Uint8Array(size);
      let offset = 0;
      for (const part of chunk) {
        bytes.set(part, offset);
        offset += part.byteLength;
      }
      for (let written = 0; written < bytes.byteLength;) {
        written += await file.write(bytes.subarray(written));
      }
      chunk.length = 0;
      size = 0;
    };
    for (let i = 0; i < COMMANDS; i++) {
      const command = encodeCommand(["SET", `key:${i}`, `value:${i}`]);
      chunk.push(command);
      size += command.byteLength;
      if (size > 1 << 20) await flush();
    }
    await flush();
  } finally {
    file.close();
  }
}

Deno.test({
  name: "while the AOF loads, clients connect and get -LOADING, INFO answers loading:1",
  ...SERVER_TEST,
  async fn() {
    const dir = await tempDir();
    await writeBigAof(dir);
    const port = await freePort();
    const [command, ...args] = ourServerCommand();
    const child = new Deno.Command(command!, {
      args: [
        ...args,
        "--port",
        String(port),
        "--bind",
        "127.0.0.1",
        "--dir",
        dir,
        "--appendfilename",
        "big.aof",
      ],
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const stderr = new Response(child.stderr).text();
    let client: RawClient | undefined;
    try {
      for (let attempt = 0; client === undefined && attempt < 2000; attempt++) {
        client = await RawClient.connect(port).catch(() => undefined);
        if (client === undefined) await sleep(5);
      }
      assert.ok(client !== undefined, "the server never accepted a connection");
      const decoder = new TextDecoder();
      const first = decoder.decode(await client.command("GET", "key:1"));
      // The connection may only have been accepted once loading was over on a very fast machine;
      // the loading window is what this test is about, so it must have been seen.
      assert.equal(first, "-LOADING Redis is loading the dataset in memory\r\n");
      const info = decoder.decode(await client.command("INFO", "persistence"));
      assert.match(info, /loading:1\r\n/);
      assert.equal(
        decoder.decode(await client.command("PING")),
        "-LOADING Redis is loading the dataset in memory\r\n",
      );
      let reply = "";
      for (let attempt = 0; attempt < 600; attempt++) {
        reply = decoder.decode(await client.command("GET", "key:1"));
        if (!reply.startsWith("-LOADING")) break;
        await sleep(50);
      }
      assert.equal(reply, "$7\r\nvalue:1\r\n");
      assert.equal(decoder.decode(await client.command("DBSIZE")), `:${COMMANDS}\r\n`);
      assert.match(decoder.decode(await client.command("INFO", "persistence")), /loading:0\r\n/);
    } finally {
      await client?.close();
      child.kill("SIGKILL");
      await child.status;
      await stderr;
      await Deno.remove(dir, { recursive: true });
    }
  },
});
