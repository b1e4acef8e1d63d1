/**
 * Seeded random property corpora for the pattern matcher and for
 * `string.format`: thousands of generated calls (random subjects, random
 * patterns built from every pattern item, random format specifications and
 * values) whose outputs must equal lua5.1's. The generator is deterministic
 * (a fixed seed), so the outputs can be recorded like the hand-written
 * corpus and compared where lua5.1 is missing.
 *
 * @module
 */

/** A small deterministic PRNG (mulberry32). */
function generator(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function luaString(text: string): string {
  let out = '"';
  for (const char of text) {
    const code = char.charCodeAt(0);
    if (char === '"' || char === "\\") out += "\\" + char;
    else if (code < 32 || code > 126) out += "\\" + code;
    else out += char;
  }
  return out + '"';
}

const SUBJECT_ALPHABET = [
  "a",
  "b",
  "c",
  "A",
  "Z",
  "0",
  "9",
  " ",
  "\t",
  ".",
  "%",
  "(",
  ")",
  "[",
  "]",
  "-",
  "_",
  "\0",
  "\n",
  "\xe9",
  "x",
  "y",
];
const ATOMS = [
  "a",
  "b",
  ".",
  "%a",
  "%d",
  "%s",
  "%w",
  "%p",
  "%l",
  "%u",
  "%x",
  "%c",
  "%A",
  "%S",
  "%D",
  "%W",
  "%.",
  "%%",
  "[abc]",
  "[^ab]",
  "[a-c]",
  "[%d_]",
  "[%s%p]",
  "[]a]",
  "[^%a]",
  "x",
  "0",
  " ",
  "%z",
];
const QUANTIFIERS = ["", "", "", "*", "+", "-", "?"];

function pattern(random: () => number): string {
  const pick = <T>(items: T[]): T => items[Math.floor(random() * items.length)]!;
  let text = random() < 0.2 ? "^" : "";
  const items = 1 + Math.floor(random() * 4);
  let open = 0;
  for (let index = 0; index < items; index++) {
    const roll = random();
    if (roll < 0.12 && open < 3) {
      text += "(";
      open++;
    } else if (roll < 0.2 && open > 0) {
      text += ")";
      open--;
    } else if (roll < 0.23) text += "()";
    else if (roll < 0.26) text += "%b()";
    else if (roll < 0.29) text += "%f[%w]";
    else if (roll < 0.31 && open === 0 && text.includes("(")) text += "%1";
    else text += pick(ATOMS) + pick(QUANTIFIERS);
  }
  while (open-- > 0) text += ")";
  if (random() < 0.15) text += "$";
  return text;
}

function subject(random: () => number): string {
  const length = Math.floor(random() * 12);
  let text = "";
  for (let index = 0; index < length; index++) {
    text += SUBJECT_ALPHABET[Math.floor(random() * SUBJECT_ALPHABET.length)];
  }
  return text;
}

function patternCorpus(count: number, seed: number): string {
  const random = generator(seed);
  const lines: string[] = [];
  for (let batch = 0; batch < count / 50; batch++) {
    lines.push(`--- patterns ${batch}`);
    lines.push(
      "local function show(...) local t = {} for i = 1, select('#', ...) do t[i] = string.format('%q', tostring((select(i, ...)))) end return table.concat(t, ',') end",
    );
    for (let index = 0; index < 50; index++) {
      const s = luaString(subject(random));
      const p = luaString(pattern(random));
      const init = random() < 0.3 ? `, ${Math.floor(random() * 8) - 3}` : "";
      const which = Math.floor(random() * 4);
      if (which === 0) {
        lines.push(`print(pcall(function() return show(string.find(${s}, ${p}${init})) end))`);
      } else if (which === 1) {
        lines.push(`print(pcall(function() return show(string.match(${s}, ${p}${init})) end))`);
      } else if (which === 2) {
        lines.push(
          `print(pcall(function() local r = {} for a, b in string.gmatch(${s}, ${p}) do r[#r + 1] = show(a, b) if #r > 20 then break end end return table.concat(r, ";") end))`,
        );
      } else {
        const replacement = luaString(
          ["<%0>", "%1", "-", "", "%%", "[%1%1]"][Math.floor(random() * 6)]!,
        );
        const limit = random() < 0.3 ? `, ${Math.floor(random() * 3)}` : "";
        lines.push(
          `print(pcall(function() return show(string.gsub(${s}, ${p}, ${replacement}${limit})) end))`,
        );
      }
    }
  }
  return lines.join("\n") + "\n";
}

const FLAGS = ["", "", "-", "+", " ", "#", "0", "-0", "+0", "#0"];
const VALUES = [
  "0",
  "-0.0",
  "1",
  "-1",
  "0.5",
  "1.5",
  "2.5",
  "-2.5",
  "0.125",
  "1/3",
  "2/3",
  "100",
  "1e10",
  "1e15",
  "1e16",
  "1e21",
  "1e-5",
  "1e-10",
  "123456.789",
  "2^53",
  "2^31",
  "-2^31",
  "255",
  "3.14159265358979",
  "1e300",
  "0.1",
  "0.05",
  "9.995",
  "99.5",
  "1/0",
  "-1/0",
  "123456789012345",
  "5e-324",
];

function formatCorpus(count: number, seed: number): string {
  const random = generator(seed);
  const pick = <T>(items: T[]): T => items[Math.floor(random() * items.length)]!;
  const lines: string[] = [];
  for (let batch = 0; batch < count / 50; batch++) {
    lines.push(`--- format ${batch}`);
    for (let index = 0; index < 50; index++) {
      const conversion = pick(["d", "i", "u", "x", "X", "o", "e", "E", "f", "g", "G", "c", "s"]);
      let spec = "%" + pick(FLAGS);
      if (random() < 0.5) spec += String(Math.floor(random() * 20));
      if (random() < 0.5) spec += "." + String(Math.floor(random() * 18));
      spec += conversion;
      let value = pick(VALUES);
      if (conversion === "c") value = String(32 + Math.floor(random() * 95));
      if (conversion === "s") value = luaString(pick(["", "abc", "hello world", "x"]));
      if (
        "diuxXoc".includes(conversion) &&
        (value.includes("/0") || value === "1e300" || value === "1e21")
      ) value = "42";
      lines.push(
        `print(${luaString(spec)}, pcall(string.format, ${luaString(spec + "|")}, ${value}))`,
      );
    }
  }
  return lines.join("\n") + "\n";
}

/** The generated corpora: name and source, in the corpus file format. */
export function generatedCorpora(): { name: string; source: string }[] {
  return [
    { name: "properties_patterns", source: patternCorpus(2000, 20240601) },
    { name: "properties_format", source: formatCorpus(2000, 19700101) },
  ];
}
