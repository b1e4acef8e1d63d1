/**
 * Tests for the sorted set commands, through a real socket.
 *
 * The differential corpus (tests/differential/corpus/zsets.txt) compares
 * hundreds of replies with Redis byte for byte; these tests pin down the
 * behaviour a corpus on one connection cannot show or that deserves a name:
 * every command's main cases and errors, blocking pops woken by another
 * client, what reaches the AOF, keyspace notifications, random replies, and
 * ranks in a set many skip-list levels high.
 */

import assert from "node:assert/strict";
import { dispatch } from "../../src/commands/dispatcher.ts";
import { inProcessServer, silentTransport } from "../helpers/in_process.ts";
import { readAof, seededRandom, untilBlocked } from "../helpers/test_support.ts";
import {
  bytesToLatin1,
  decodeReply,
  encodeCommand,
  RawClient,
  type ReplyValue,
  startOurServer,
} from "../helpers/servers.ts";

const text = (bytes: Uint8Array) => bytesToLatin1(bytes);

/** Sends one command and returns the raw reply as a binary string. */
async function send(client: RawClient, ...args: string[]): Promise<string> {
  return text(await client.command(...args));
}

/** Sends one command and returns the decoded reply. */
async function value(client: RawClient, ...args: string[]): Promise<ReplyValue> {
  return decodeReply(await client.command(...args));
}

/** Runs `cases` in order on one connection, each command against its raw reply. */
async function expectReplies(client: RawClient, cases: [string, string][]): Promise<void> {
  for (const [line, expected] of cases) {
    assert.equal(await send(client, ...line.split(" ")), expected, line);
  }
}

const bulk = (value: string) => `$${value.length}\r\n${value}\r\n`;
const array = (...items: string[]) => `*${items.length}\r\n${items.join("")}`;
const NULL_BULK = "$-1\r\n";
const NULL_ARRAY = "*-1\r\n";
const EMPTY = "*0\r\n";
const SYNTAX = "-ERR syntax error\r\n";
const WRONGTYPE = "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n";
const NOT_INTEGER = "-ERR value is not an integer or out of range\r\n";
const NOT_FLOAT = "-ERR value is not a valid float\r\n";
const MIN_MAX = "-ERR min or max is not a float\r\n";
const LEX_ITEM = "-ERR min or max not valid string range item\r\n";

Deno.test("ZADD adds and updates, and replies with the count of new members", async () => {
  await using server = await startOurServer();
  await using client = await RawClient.connect(server.port);
  await expectReplies(client, [
    ["ZADD z 1 a 2 b", ":2\r\n"],
    ["ZADD z 3 a 4 c", ":1\r\n"],
    ["ZADD z CH 3 a 5 b 6 d", ":2\r\n"],
    ["ZADD z NX 100 a 7 e", ":1\r\n"],
    ["ZADD z XX 8 e 9 nosuch", ":0\r\n"],
    ["ZADD z GT CH 1 a 10 e", ":1\r\n"],
    ["ZADD z LT CH 1 a 10 b", ":1\r\n"],
    [
      "ZRANGE z 0 -1 WITHSCORES",
      array(
        ...["a", "1", "c", "4", "b", "5", "d", "6", "e", "10"].map(bulk),
      ),
    ],
    ["ZADD z INCR 2.5 a", bulk("3.5")],
    ["ZADD z NX INCR 1 a", NULL_BULK],
    ["ZADD z GT INCR -1 a", NULL_BULK],
    ["ZADD z XX INCR 1 nosuch", NULL_BULK],
    ["ZINCRBY z 0.1 a", bulk("3.6000000000000001")],
    ["ZINCRBY z 1 fresh", bulk("1")],
    ["ZADD z inf top -inf bottom", ":2\r\n"],
    ["ZSCORE z top", bulk("inf")],
    ["ZINCRBY z -inf top", "-ERR resulting score is not a number (NaN)\r\n"],
    ["ZADD missing XX 1 a", ":0\r\n"],
    ["EXISTS missing", ":0\r\n"],
  ]);
});

Deno.test("ZADD and ZINCRBY reject bad options and scores before touching the key", async () => {
  await using server = await startOurServer();
  await using client = await RawClient.connect(server.port);
  await send(client, "SET", "str", "x");
  await expectReplies(client, [
    ["ZADD z XX NX 1 a", "-ERR XX and NX options at the same time are not compatible\r\n"],
    ["ZADD z GT LT 1 a", "-ERR GT, LT, and/or NX options at the same time are not compatible\r\n"],
    ["ZADD z NX GT 1 a", "-ERR GT, LT, and/or NX options at the same time are not compatible\r\n"],
    ["ZADD z INCR 1 a 2 b", "-ERR INCR option supports a single increment-element pair\r\n"],
    ["ZADD z 1 a 2", SYNTAX],
    ["ZADD z NX", "-ERR wrong number of arguments for 'zadd' command\r\n"],
    ["ZADD z nan a", NOT_FLOAT],
    ["ZADD z 1e400 a", NOT_FLOAT],
    ["ZADD str abc a", NOT_FLOAT],
    ["ZADD str 1 a", WRONGTYPE],
    ["ZINCRBY z nx a", SYNTAX],
    ["ZINCRBY z x a", NOT_FLOAT],
    ["ZINCRBY str 1 a", WRONGTYPE],
    ["EXISTS z", ":0\r\n"],
  ]);
});

Deno.test("a small sorted set stores -0 as 0, a large one keeps it, as Redis does", async () => {
  await using server = await startOurServer();
  await using client = await RawClient.connect(server.port);
  await expectReplies(client, [
    ["ZADD small -0 a", ":1\r\n"],
    ["ZSCORE small a", bulk("0")],
    ["ZINCRBY small -0 b", bulk("-0")],
    ["ZSCORE small b", bulk("0")],
  ]);
  const members = Array.from({ length: 200 }, (_, i) => [String(i + 1), `m${i}`]).flat();
  await send(client, "ZADD", "large", ...members);
  await expectReplies(client, [
    ["ZADD large -0 zero", ":1\r\n"],
    ["ZSCORE large zero", bulk("-0")],
    ["ZUNION 1 small WEIGHTS -1 WITHSCORES", array(...["a", "-0", "b", "-0"].map(bulk))],
  ]);
});

Deno.test("ZREM, ZCARD, ZSCORE, ZMSCORE, ZRANK and ZREVRANK", async () => {
  await using server = await startOurServer();
  await using client = await RawClient.connect(server.port);
  await send(client, "SET", "str", "x");
  await expectReplies(client, [
    ["ZADD z 1 a 2 b 3 c", ":3\r\n"],
    ["ZCARD z", ":3\r\n"],
    ["ZCARD missing", ":0\r\n"],
    ["ZSCORE z b", bulk("2")],
    ["ZSCORE z nosuch", NULL_BULK],
    ["ZMSCORE z a nosuch c", array(bulk("1"), NULL_BULK, bulk("3"))],
    ["ZMSCORE missing a", array(NULL_BULK)],
    ["ZRANK z c", ":2\r\n"],
    ["ZREVRANK z c", ":0\r\n"],
    ["ZRANK z nosuch", NULL_BULK],
    ["ZREVRANK missing a", NULL_BULK],
    ["ZREM z a nosuch a", ":1\r\n"],
    ["ZREM z b c", ":2\r\n"],
    ["EXISTS z", ":0\r\n"],
    ["ZREM missing a", ":0\r\n"],
    ["ZCARD str", WRONGTYPE],
    ["ZSCORE str a", WRONGTYPE],
    ["ZMSCORE str a", WRONGTYPE],
    ["ZRANK str a", WRONGTYPE],
    ["ZREM str a", WRONGTYPE],
  ]);
});

Deno.test("ZRANGE by index, score and lex, reversed and limited, and its older names", async () => {
  await using server = await startOurServer();
  await using client = await RawClient.connect(server.port);
  await send(client, "ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e");
  await send(client, "ZADD", "lex", "0", "a", "0", "b", "0", "c", "0", "d");
  const members = (...names: string[]) => array(...names.map(bulk));
  await expectReplies(client, [
    ["ZRANGE z 1 2", members("b", "c")],
    ["ZRANGE z -2 -1 WITHSCORES", members("d", "4", "e", "5")],
    ["ZRANGE z 0 1 REV", members("e", "d")],
    ["ZRANGE z 3 1", EMPTY],
    ["ZRANGE z (1 3 BYSCORE", members("b", "c")],
    ["ZRANGE z 4 (2 BYSCORE REV", members("d", "c")],
    ["ZRANGE z -inf +inf BYSCORE LIMIT 1 2", members("b", "c")],
    ["ZRANGE z +inf -inf BYSCORE REV LIMIT 1 -1", members("d", "c", "b", "a")],
    ["ZRANGE z -inf +inf BYSCORE LIMIT -1 2", EMPTY],
    ["ZRANGE lex [b (d BYLEX", members("b", "c")],
    ["ZRANGE lex + - BYLEX REV LIMIT 0 2", members("d", "c")],
    ["ZREVRANGE z 0 1 WITHSCORES", members("e", "5", "d", "4")],
    ["ZRANGEBYSCORE z 2 3 WITHSCORES", members("b", "2", "c", "3")],
    ["ZREVRANGEBYSCORE z 3 2", members("c", "b")],
    ["ZRANGEBYLEX lex - [b", members("a", "b")],
    ["ZREVRANGEBYLEX lex [b -", members("b", "a")],
    ["ZRANGE missing 0 -1", EMPTY],
    // Redis 7.0 reads score bounds with a bare strtod.
    ["ZRANGEBYSCORE z ( 1", members("a")],
    ["ZRANGEBYSCORE z 1e400 +inf", EMPTY],
  ]);
  await expectReplies(client, [
    [
      "ZRANGE z 0 1 LIMIT 0 1",
      "-ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX\r\n",
    ],
    [
      "ZRANGE lex - + BYLEX WITHSCORES",
      "-ERR syntax error, WITHSCORES not supported in combination with BYLEX\r\n",
    ],
    ["ZRANGE z 0 1 REV REV", SYNTAX],
    ["ZRANGE z 0 1 BYSCORE BYLEX", SYNTAX],
    ["ZRANGEBYSCORE z 0 1 REV", SYNTAX],
    ["ZREVRANGE z 0 1 BYSCORE", SYNTAX],
    ["ZRANGE z 0 1 LIMIT 1", SYNTAX],
    ["ZRANGE z x 1", NOT_INTEGER],
    ["ZRANGE z 0 1 BYSCORE LIMIT x 1", NOT_INTEGER],
    ["ZRANGE z x 1 BYSCORE", MIN_MAX],
    ["ZRANGE z nan 1 BYSCORE", MIN_MAX],
    ["ZRANGE lex a b BYLEX", LEX_ITEM],
    ["ZRANGEBYLEX lex - ++", LEX_ITEM],
  ]);
});

Deno.test("ZRANGE WITHSCORES, ZPOPMIN with a count and ZRANDMEMBER nest pairs in RESP3", async () => {
  await using server = await startOurServer();
  await using client = await RawClient.connect(server.port);
  await send(client, "HELLO", "3");
  const pair = (member: string, score: string) => `*2\r\n${bulk(member)},${score}\r\n`;
  await expectReplies(client, [
    ["ZADD z 1 a 2.5 b", ":2\r\n"],
    ["ZSCORE z b", ",2.5\r\n"],
    ["ZSCORE z nosuch", "_\r\n"],
    ["ZRANGE z 0 -1 WITHSCORES", `*2\r\n${pair("a", "1")}${pair("b", "2.5")}`],
    ["ZRANGE z 0 -1", array(bulk("a"), bulk("b"))],
    ["ZRANDMEMBER z 5 WITHSCORES", `*2\r\n${pair("b", "2.5")}${pair("a", "1")}`],
    ["ZUNION 1 z WITHSCORES", `*2\r\n${pair("a", "1")}${pair("b", "2.5")}`],
    ["ZPOPMIN z", `*2\r\n${bulk("a")},1\r\n`],
    ["ZPOPMIN z 1", `*1\r\n${pair("b", "2.5")}`],
    ["ZPOPMIN z", "*0\r\n"],
    ["ZMPOP 1 z MIN", "_\r\n"],
  ]);
});

Deno.test("ZRANGESTORE stores a range, replacing the destination or deleting it", async () => {
  await using server = await startOurServer();
  await using client = await RawClient.connect(server.port);
  await send(client, "ZADD", "z", "1", "a", "2", "b", "3", "c");
  await send(client, "SET", "dst", "string");
  await expectReplies(client, [
    ["ZRANGESTORE dst z 0 1", ":2\r\n"],
    ["ZRANGE dst 0 -1 WITHSCORES", array(...["a", "1", "b", "2"].map(bulk))],
    ["ZRANGESTORE dst z +inf (1 BYSCORE REV LIMIT 0 1", ":1\r\n"],
    ["ZRANGE dst 0 -1", array(bulk("c"))],
    ["ZRANGESTORE dst z 5 10", ":0\r\n"],
    ["EXISTS dst", ":0\r\n"],
    ["ZRANGESTORE dst missing 0 -1", ":0\r\n"],
    ["ZRANGESTORE dst z 0 -1 WITHSCORES", SYNTAX],
  ]);
});

Deno.test("ZCOUNT, ZLEXCOUNT and the ZREMRANGEBY commands", async () => {
  await using server = await startOurServer();
  await using client = await RawClient.connect(server.port);
  await send(client, "ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e");
  await send(client, "ZADD", "lex", "0", "a", "0", "b", "0", "c", "0", "d");
  await expectReplies(client, [
    ["ZCOUNT z (1 3", ":2\r\n"],
    ["ZCOUNT z 3 1", ":0\r\n"],
    ["ZCOUNT z x 1", MIN_MAX],
    ["ZLEXCOUNT lex (a +", ":3\r\n"],
    ["ZLEXCOUNT lex x +", LEX_ITEM],
    ["ZREMRANGEBYRANK z 0 0", ":1\r\n"],
    ["ZREMRANGEBYRANK z -1 -1", ":1\r\n"],
    ["ZREMRANGEBYRANK z 5 10", ":0\r\n"],
    ["ZREMRANGEBYRANK z x 1", NOT_INTEGER],
    ["ZREMRANGEBYSCORE z (2 +inf", ":2\r\n"],
    ["ZREMRANGEBYSCORE z x 1", MIN_MAX],
    ["ZRANGE z 0 -1", array(bulk("b"))],
    ["ZREMRANGEBYLEX lex [b [c", ":2\r\n"],
    ["ZREMRANGEBYLEX lex a b", LEX_ITEM],
    ["ZREMRANGEBYLEX lex - +", ":2\r\n"],
    ["EXISTS lex", ":0\r\n"],
    ["ZREMRANGEBYSCORE z -inf +inf", ":1\r\n"],
    ["EXISTS z", ":0\r\n"],
  ]);
});

Deno.test("ZPOPMIN, ZPOPMAX and ZMPOP pop from the ends", async () => {
  await using server = await startOurServer();
  await using client = await RawClient.connect(server.port);
  await send(client, "ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d");
  await send(client, "SET", "str", "x");
  await expectReplies(client, [
    ["ZPOPMIN z", array(bulk("a"), bulk("1"))],
    ["ZPOPMAX z 2", array(...["d", "4", "c", "3"].map(bulk))],
    ["ZPOPMAX z 0", EMPTY],
    ["ZPOPMIN z -1", "-ERR value is out of range, must be positive\r\n"],
    ["ZPOPMIN z 1 2", SYNTAX],
    ["ZMPOP 2 missing z MAX COUNT 10", array(bulk("z"), array(array(bulk("b"), bulk("2"))))],
    ["EXISTS z", ":0\r\n"],
    ["ZPOPMIN z", EMPTY],
    ["ZMPOP 1 z MIN", NULL_ARRAY],
    ["ZMPOP 1 str MIN", WRONGTYPE],
    ["ZMPOP 0 z MIN", "-ERR numkeys should be greater than 0\r\n"],
    ["ZMPOP 2 z MIN", SYNTAX],
    ["ZMPOP 1 z MIN COUNT 0", "-ERR count should be greater than 0\r\n"],
    ["ZMPOP 1 z MIN COUNT 1 COUNT 1", SYNTAX],
  ]);
});

Deno.test("ZRANDMEMBER picks distinct members for a positive count, repeats for a negative one", async () => {
  await using server = await startOurServer();
  await using client = await RawClient.connect(server.port);
  const members = Array.from({ length: 300 }, (_, i) => `m${i}`);
  await send(client, "ZADD", "z", ...members.flatMap((member, i) => [String(i), member]));
  for (const count of [1, 5, 150, 299]) {
    const picked = await value(client, "ZRANDMEMBER", "z", String(count)) as string[];
    assert.equal(picked.length, count);
    assert.equal(new Set(picked).size, count, `distinct picks for ${count}`);
    for (const member of picked) assert.ok(members.includes(member));
  }
  const whole = await value(client, "ZRANDMEMBER", "z", "1000") as string[];
  assert.deepEqual(whole, [...members].reverse(), "the whole set, highest score first");
  const repeated = await value(client, "ZRANDMEMBER", "z", "-1000", "WITHSCORES") as string[];
  assert.equal(repeated.length, 2000);
  for (let i = 0; i < repeated.length; i += 2) {
    assert.equal(repeated[i], `m${repeated[i + 1]}`, "each pick comes with its own score");
  }
  assert.equal((await value(client, "ZRANDMEMBER", "z", "-5") as string[]).length, 5);
  assert.ok(members.includes(await value(client, "ZRANDMEMBER", "z") as string));
  await expectReplies(client, [
    ["ZRANDMEMBER missing", NULL_BULK],
    ["ZRANDMEMBER missing 3", EMPTY],
    ["ZRANDMEMBER z 0", EMPTY],
    ["ZRANDMEMBER z x", NOT_INTEGER],
    ["ZRANDMEMBER z 1 FOO", SYNTAX],
    [
      "ZRANDMEMBER z -9223372036854775808",
      "-ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807\r\n",
    ],
    ["ZRANDMEMBER z 4611686018427387904 WITHSCORES", "-ERR value is out of range\r\n"],
    // Redis 7.0 would try to build this reply and run out of memory.
    [
      "ZRANDMEMBER z -4611686018427387903 WITHSCORES",
      "-ERR value is out of range, the reply would be too large\r\n",
    ],
  ]);
});

Deno.test("ZUNION, ZINTER and ZDIFF combine sorted sets and sets", async () => {
  await using server = await startOurServer();
  await using client = await RawClient.connect(server.port);
  await send(client, "ZADD", "z1", "1", "a", "2", "b", "3", "c");
  await send(client, "ZADD", "z2", "10", "b", "20", "c", "30", "d");
  await send(client, "SADD", "s", "a", "x");
  await send(client, "ZADD", "i1", "inf", "m");
  await send(client, "ZADD", "i2", "-inf", "m");
  const withScores = (...items: string[]) => array(...items.map(bulk));
  await expectReplies(client, [
    ["ZUNION 2 z1 z2 WITHSCORES", withScores("a", "1", "b", "12", "c", "23", "d", "30")],
    ["ZUNION 2 z1 z2 WEIGHTS 2 -1 AGGREGATE MAX", withScores("d", "a", "b", "c")],
    ["ZINTER 2 z1 z2 AGGREGATE MIN WITHSCORES", withScores("b", "2", "c", "3")],
    ["ZINTER 2 z1 s WITHSCORES", withScores("a", "2")],
    ["ZDIFF 2 z1 z2 WITHSCORES", withScores("a", "1")],
    ["ZDIFF 2 s z1 WITHSCORES", withScores("x", "1")],
    ["ZUNION 2 i1 i2 WITHSCORES", withScores("m", "0")],
    ["ZUNION 1 i1 WEIGHTS 0 WITHSCORES", withScores("m", "0")],
    ["ZINTER 2 z1 missing", EMPTY],
    ["ZUNIONSTORE dst 2 z1 z2", ":4\r\n"],
    ["ZRANGE dst 0 -1 WITHSCORES", withScores("a", "1", "b", "12", "c", "23", "d", "30")],
    ["ZINTERSTORE dst 2 z1 z2 WEIGHTS 1 0", ":2\r\n"],
    ["ZRANGE dst 0 -1 WITHSCORES", withScores("b", "2", "c", "3")],
    ["ZDIFFSTORE dst 2 z1 z1", ":0\r\n"],
    ["EXISTS dst", ":0\r\n"],
    ["ZINTERCARD 2 z1 z2", ":2\r\n"],
    ["ZINTERCARD 2 z1 z2 LIMIT 1", ":1\r\n"],
  ]);
});

Deno.test("the algebra commands check numkeys, then key types, then options", async () => {
  await using server = await startOurServer();
  await using client = await RawClient.connect(server.port);
  await send(client, "ZADD", "z", "1", "a");
  await send(client, "SET", "str", "x");
  await expectReplies(client, [
    ["ZUNION 0 z", "-ERR at least 1 input key is needed for 'zunion' command\r\n"],
    ["zinterstore dst 0 z", "-ERR at least 1 input key is needed for 'zinterstore' command\r\n"],
    ["ZINTERCARD 0 z", "-ERR at least 1 input key is needed for 'zintercard' command\r\n"],
    ["ZUNION x z", NOT_INTEGER],
    ["ZUNION 2 z", SYNTAX],
    ["ZUNION 1 str FOO", WRONGTYPE],
    ["ZUNION 1 z FOO", SYNTAX],
    ["ZUNION 1 z WEIGHTS x", "-ERR weight value is not a float\r\n"],
    ["ZUNION 1 z AGGREGATE AVG", SYNTAX],
    ["ZDIFF 1 z WEIGHTS 1", SYNTAX],
    ["ZUNIONSTORE dst 1 z WITHSCORES", SYNTAX],
    ["ZINTERCARD 1 z LIMIT -1", "-ERR LIMIT can't be negative\r\n"],
    ["ZINTERCARD 1 z WITHSCORES", SYNTAX],
  ]);
});

Deno.test("ZSCAN walks a large sorted set completely, with scores", async () => {
  await using server = await startOurServer();
  await using client = await RawClient.connect(server.port);
  const count = 1000;
  await send(
    client,
    "ZADD",
    "z",
    ...Array.from({ length: count }, (_, i) => [String(i / 4), `m${i}`]).flat(),
  );
  const seen = new Map<string, string>();
  let cursor = "0";
  do {
    const [next, items] = await value(client, "ZSCAN", "z", cursor, "COUNT", "50") as [
      string,
      string[],
    ];
    for (let i = 0; i < items.length; i += 2) seen.set(items[i]!, items[i + 1]!);
    cursor = next;
  } while (cursor !== "0");
  assert.equal(seen.size, count);
  assert.equal(seen.get("m6"), "1.5");
  await send(client, "ZADD", "small", "1", "a", "2", "b");
  assert.equal(
    await send(client, "ZSCAN", "small", "0", "MATCH", "b*"),
    array(bulk("0"), array(bulk("b"), bulk("2"))),
  );
});

Deno.test("BZPOPMIN and BZPOPMAX wait for a member, first come first served", async () => {
  await using server = await startOurServer();
  await using first = await RawClient.connect(server.port);
  await using second = await RawClient.connect(server.port);
  await using writer = await RawClient.connect(server.port);
  await first.send(encodeCommand(["BZPOPMIN", "missing", "z", "0"]));
  await untilBlocked(writer, 1);
  await second.send(encodeCommand(["BZPOPMAX", "z", "0"]));
  await untilBlocked(writer, 2);
  assert.equal(await send(writer, "ZADD", "z", "1", "a", "2", "b", "3", "c"), ":3\r\n");
  assert.equal(text(await first.readReply()), array(bulk("z"), bulk("a"), bulk("1")));
  assert.equal(text(await second.readReply()), array(bulk("z"), bulk("c"), bulk("3")));
  assert.equal(await send(writer, "ZRANGE", "z", "0", "-1"), array(bulk("b")));
  // With a member there already, no waiting.
  assert.equal(await send(first, "BZPOPMAX", "z", "0"), array(bulk("z"), bulk("b"), bulk("2")));
  assert.equal(await send(writer, "EXISTS", "z"), ":0\r\n");
});

Deno.test("BZMPOP waits and takes up to COUNT members as pairs", async () => {
  await using server = await startOurServer();
  await using waiter = await RawClient.connect(server.port);
  await using writer = await RawClient.connect(server.port);
  await waiter.send(encodeCommand(["BZMPOP", "0", "2", "a", "b", "MAX", "COUNT", "2"]));
  await untilBlocked(writer, 1);
  await send(writer, "ZADD", "b", "1", "x", "2", "y", "3", "z");
  assert.equal(
    text(await waiter.readReply()),
    array(bulk("b"), array(array(bulk("z"), bulk("3")), array(bulk("y"), bulk("2")))),
  );
  assert.equal(await send(writer, "ZCARD", "b"), ":1\r\n");
});

Deno.test("blocking pops time out with a null, ignore keys of another type, never block in MULTI", async () => {
  await using server = await startOurServer();
  await using waiter = await RawClient.connect(server.port);
  await using writer = await RawClient.connect(server.port);
  const started = Date.now();
  assert.equal(await send(waiter, "BZPOPMIN", "z", "0.2"), NULL_ARRAY);
  assert.ok(Date.now() - started >= 150, "waited for the timeout");
  assert.equal(await send(waiter, "BZMPOP", "0.05", "1", "z", "MIN"), NULL_ARRAY);
  await send(writer, "SET", "str", "x");
  assert.equal(await send(waiter, "BZPOPMIN", "str", "0"), WRONGTYPE);

  await waiter.send(encodeCommand(["BZPOPMIN", "z", "0"]));
  await untilBlocked(writer, 1);
  await send(writer, "SET", "z", "not a sorted set");
  await send(writer, "DEL", "z");
  await send(writer, "ZADD", "z", "5", "member");
  assert.equal(text(await waiter.readReply()), array(bulk("z"), bulk("member"), bulk("5")));

  await expectReplies(waiter, [
    ["MULTI", "+OK\r\n"],
    ["BZPOPMIN z 0", "+QUEUED\r\n"],
    ["BZMPOP 0 1 z MIN", "+QUEUED\r\n"],
    ["EXEC", array(NULL_ARRAY, NULL_ARRAY)],
    ["BZPOPMIN z x", "-ERR timeout is not a float or out of range\r\n"],
    ["BZPOPMIN z -1", "-ERR timeout is negative\r\n"],
  ]);
});

Deno.test("pops are logged to the AOF as ZPOPMIN/ZPOPMAX of what they took; reads and no-ops are not", async () => {
  const dir = await Deno.makeTempDir({ prefix: "redis-clone-zsets-" });
  try {
    {
      await using server = await startOurServer({
        dir,
        args: ["--appendonly", "yes", "--appendfsync", "always"],
      });
      await using client = await RawClient.connect(server.port);
      await using waiter = await RawClient.connect(server.port);
      await send(client, "ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d");
      await send(client, "ZADD", "z", "NX", "9", "a");
      await send(client, "ZRANDMEMBER", "z", "-3");
      await send(client, "BZPOPMIN", "z", "0");
      await send(client, "ZMPOP", "1", "z", "MAX", "COUNT", "2");
      await send(client, "BZMPOP", "0", "1", "z", "MIN", "COUNT", "5");
      await waiter.send(encodeCommand(["BZPOPMAX", "y", "0"]));
      await untilBlocked(client, 1);
      await send(client, "ZADD", "y", "7", "x");
      await waiter.readReply();
      await waiter.send(encodeCommand(["BZMPOP", "0", "1", "w", "MAX", "COUNT", "9"]));
      await untilBlocked(client, 1);
      await send(client, "ZADD", "w", "1", "p", "2", "q");
      await waiter.readReply();
      await send(client, "ZINCRBY", "y", "1.5", "w");
    }
    assert.deepEqual(await readAof(dir, { select: false }), [
      ["ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d"],
      ["ZPOPMIN", "z"],
      ["ZPOPMAX", "z", "2"],
      ["ZPOPMIN", "z", "1"],
      ["ZADD", "y", "7", "x"],
      ["ZPOPMAX", "y"],
      ["ZADD", "w", "1", "p", "2", "q"],
      ["ZPOPMAX", "w", "2"],
      ["ZINCRBY", "y", "1.5", "w"],
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sorted set commands send Redis's keyspace notifications", async () => {
  await using server = await startOurServer();
  await using client = await RawClient.connect(server.port);
  await using listener = await RawClient.connect(server.port);
  await send(client, "CONFIG", "SET", "notify-keyspace-events", "KEA");
  await send(listener, "PSUBSCRIBE", "__keyspace@0__:*");
  const script = [
    "ZADD z 1 a 2 b 3 c 4 d",
    "ZADD z NX 1 a",
    "ZINCRBY z 1 a",
    "ZREM z nosuch",
    "ZREM z a",
    "ZREMRANGEBYRANK z 0 0",
    "ZREMRANGEBYSCORE z 3 3",
    "ZADD l 0 a 0 b",
    "ZREMRANGEBYLEX l - +",
    "ZADD z 5 e",
    "ZPOPMIN z",
    "ZPOPMAX z",
    "ZADD s1 1 a",
    "ZUNIONSTORE u 1 s1",
    "ZINTERSTORE i 1 s1",
    "ZDIFFSTORE d 1 s1",
    "ZRANGESTORE r s1 0 -1",
    "ZUNIONSTORE u 1 nosuch",
    "ZRANGE s1 0 -1",
  ];
  for (const line of script) await send(client, ...line.split(" "));
  await send(client, "PUBLISH", "__keyspace@0__:end", "end");
  const events: string[] = [];
  for (;;) {
    const [, , channel, event] = decodeReply(await listener.readReply()) as string[];
    if (event === "end") break;
    events.push(`${channel!.slice("__keyspace@0__:".length)} ${event}`);
  }
  assert.deepEqual(events, [
    "z zadd",
    "z zincr",
    "z zrem",
    "z zremrangebyrank",
    "z zremrangebyscore",
    "l zadd",
    "l zremrangebylex",
    "l del",
    "z zadd",
    "z zpopmin",
    "z zpopmax",
    "z del",
    "s1 zadd",
    "u zunionstore",
    "i zinterstore",
    "d zdiffstore",
    "r zrangestore",
    "u del",
  ]);
});

Deno.test("ZADD in shuffled order then ZRANK of every member gives each its place by score", () => {
  const server = inProcessServer();
  const client = server.connect(silentTransport());
  // Enough members for a skip list many levels high; the speed of a million
  // is measured by bench/command_table_bench.ts, not asserted here.
  const size = 100_000;
  const random = seededRandom(7);
  const order = Array.from({ length: size }, (_, i) => i);
  for (let i = size - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const batch = 1000;
  for (let start = 0; start < size; start += batch) {
    const args = ["ZADD", "many"];
    for (let i = start; i < start + batch; i++) args.push(String(order[i]), `member:${order[i]}`);
    dispatch(client, args);
  }
  assert.equal(
    text(client.reply.take()).split("\r\n").filter((line) => line === ":1000").length,
    size / batch,
  );
  dispatch(client, ["ZCARD", "many"]);
  assert.equal(text(client.reply.take()), `:${size}\r\n`);
  for (let i = 0; i < size; i += 1000) {
    for (let j = i; j < i + 1000; j++) dispatch(client, ["ZRANK", "many", `member:${j}`]);
    const replies = text(client.reply.take()).split("\r\n");
    for (let j = 0; j < 1000; j++) assert.equal(replies[j], `:${i + j}`, `rank of member:${i + j}`);
  }
  dispatch(client, ["ZREVRANK", "many", "member:0"]);
  dispatch(client, ["ZRANGE", "many", "49999", "50000"]);
  assert.equal(
    text(client.reply.take()),
    `:${size - 1}\r\n*2\r\n$12\r\nmember:49999\r\n$12\r\nmember:50000\r\n`,
  );
});
