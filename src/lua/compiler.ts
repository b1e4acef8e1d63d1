/**
 * The compiler: Lua syntax tree → JavaScript source → `new Function`.
 *
 * Each Lua function becomes one plain JS function, so V8 optimizes it like
 * hand-written code: Lua locals are JS variables, numbers are doubles,
 * operators call small runtime helpers with inline fast paths (V8 inlines
 * them), calls are direct JS calls. Locals captured by closures live in
 * cells (`{ v }`) created at their declaration, which gives each loop
 * iteration a fresh upvalue as Lua 5.1 does; inner functions receive their
 * cells through a factory, like Lua's OP_CLOSURE.
 *
 * Resumability (see runtime.ts) shapes the generated code in three ways:
 *
 * - Every variable of a function, temporaries included, is declared at the
 *   function's top, so one `catch` can snapshot them all when a suspension
 *   unwinds the stack.
 * - Calls and budget checks are numbered "resume points". Sub-expressions
 *   evaluated before a call are moved into temporaries first (they also
 *   must be, for Lua's left-to-right order), so a call's result can be
 *   supplied later without evaluating anything twice.
 * - Every statement list containing resume points is a `switch` with
 *   fall-through `case` labels: normally it enters at `case 0` and runs
 *   straight through; when a frame is rebuilt it jumps to the case holding
 *   the resume point, and loops and conditionals on the way are entered
 *   without re-testing their conditions (`$R` is set while jumping).
 *
 * Error messages need static facts: each operation that can fail gets a
 * "site" (line, and Lua 5.1's names for its operands such as "local 'x'" or
 * "field 'y'", as `getobjname` derives them from bytecode), each resume point
 * a line and the called function's name.
 *
 * @module
 */

import type { Expression, FunctionNode, Statement, Variable } from "./ast.ts";
import { chunkId } from "./lexer.ts";
import { parse } from "./parser.ts";
import * as runtime from "./runtime.ts";
import type { FunctionInfo, Site } from "./runtime.ts";
import type { LuaTable } from "./table.ts";
import type { LuaFunction, LuaValue } from "./values.ts";
import { helpers } from "./helpers.ts";

/** Options of {@link compile}. */
export interface CompileOptions {
  /** The globals table of the chunk (its environment). */
  env: LuaTable;
  /** Library code: errors carry no position, as if raised in C. */
  hidden?: boolean;
}

interface Piece {
  text: string;
  points: number[];
}

/** An output statement list. */
class Output {
  readonly pieces: Piece[] = [];
  emit(text: string): void {
    this.pieces.push({ text, points: [] });
  }
  emitPoint(text: string, point: number): void {
    this.pieces.push({ text, points: [point] });
  }
  emitCompound(text: string, points: number[]): void {
    this.pieces.push({ text, points });
  }
  points(): number[] {
    const all: number[] = [];
    for (const piece of this.pieces) for (const point of piece.points) all.push(point);
    return all;
  }
  render(): string {
    const hasPoints = this.pieces.some((piece) => piece.points.length > 0);
    if (!hasPoints) return this.pieces.map((piece) => piece.text).join("\n");
    const parts = ["switch ($R ? $rp : 0) {\ncase 0:"];
    for (const piece of this.pieces) {
      if (piece.points.length > 0) {
        parts.push(piece.points.map((point) => `case ${point}:`).join(" "));
      }
      parts.push(piece.text);
    }
    parts.push("}");
    return parts.join("\n");
  }
}

/** A compiled expression: JS code, and whether re-reading it later gives the same value. */
interface Code {
  code: string;
  stable: boolean;
}

const STABLE_TRUE: Code = { code: "true", stable: true };

class FunctionCompiler {
  readonly node: FunctionNode;
  readonly chunk: ChunkCompiler;
  readonly names = new Map<Variable, string>();
  readonly temps: string[] = [];
  #nextPoint = 1;
  readonly lines: number[] = [0];
  readonly callNames: ({ name: string; method: boolean } | null)[] = [null];
  #loops: string[] = [];
  #nextLabel = 0;
  zero: number | null = null;
  readonly needsArg: boolean;

  constructor(node: FunctionNode, chunk: ChunkCompiler, needsArg: boolean) {
    this.node = node;
    this.chunk = chunk;
    this.needsArg = needsArg;
    this.lines[0] = node.line;
    for (const variable of node.locals) {
      this.names.set(variable, `${variable.name.replace(/[^A-Za-z0-9_]/g, "_")}$${variable.id}`);
    }
  }

  temp(): string {
    const name = `$t${this.temps.length}`;
    this.temps.push(name);
    return name;
  }

  point(line: number, callee: { name: string; method: boolean } | null = null): number {
    const point = this.#nextPoint++;
    this.lines[point] = line;
    this.callNames[point] = callee;
    return point;
  }

  site(line: number, names: (string | null)[]): number {
    return this.chunk.site(line, names);
  }

  // ---- expressions ------------------------------------------------------

  number(value: number): string {
    if (value === 0) {
      if (this.zero === null) this.zero = value;
      return Object.is(this.zero, -0) ? "(-0)" : "0";
    }
    if (value === Infinity) return "Infinity";
    if (value === -Infinity) return "(-Infinity)";
    return value < 0 ? `(${String(value)})` : String(value);
  }

  /** Whether compiling `e` emits statements (calls, or constructs that contain them). */
  static emits(e: Expression): boolean {
    switch (e.kind) {
      case "Call":
      case "Method":
        return true;
      case "Index":
        return FunctionCompiler.emits(e.object) || FunctionCompiler.emits(e.key);
      case "Binary":
        return FunctionCompiler.emits(e.left) || FunctionCompiler.emits(e.right);
      case "Unary":
        return FunctionCompiler.emits(e.operand);
      case "Paren":
        return FunctionCompiler.emits(e.inner);
      case "Table":
        return e.items.some((item) =>
          FunctionCompiler.emits(item.value) ||
          (item.kind === "Keyed" && FunctionCompiler.emits(item.key))
        );
      default:
        return false;
    }
  }

  /** Stores a non-stable value in a temporary, so later statements cannot change it. */
  stabilize(value: Code, out: Output): Code {
    if (value.stable) return value;
    const name = this.temp();
    out.emit(`${name} = ${value.code};`);
    return { code: name, stable: true };
  }

  describe(e: Expression): string | null {
    switch (e.kind) {
      case "Local":
        return `local '${e.variable.name}'`;
      case "Upvalue":
        return `upvalue '${e.name}'`;
      case "Global":
        return `global '${e.name}'`;
      case "Index":
        return e.key.kind === "String" ? `field '${e.key.value}'` : "field '?'";
      case "Paren":
        return e.inner.kind === "Call" || e.inner.kind === "Method" ? null : this.describe(e.inner);
      default:
        return null;
    }
  }

  calleeName(e: Expression): { name: string; method: boolean } | null {
    switch (e.kind) {
      case "Local":
        return { name: e.variable.name, method: false };
      case "Upvalue":
      case "Global":
        return { name: e.name, method: false };
      case "Index":
        return { name: e.key.kind === "String" ? e.key.value : "?", method: false };
      default:
        return null;
    }
  }

  expression(e: Expression, out: Output): Code {
    switch (e.kind) {
      case "Nil":
        return { code: "undefined", stable: true };
      case "True":
        return { code: "true", stable: true };
      case "False":
        return { code: "false", stable: true };
      case "Number":
        return { code: this.number(e.value), stable: true };
      case "String":
        return { code: JSON.stringify(e.value), stable: true };
      case "Vararg":
        return { code: "$va[0]", stable: true };
      case "Function":
        return { code: this.closure(e.node), stable: false };
      case "Local": {
        const name = this.names.get(e.variable)!;
        return e.variable.captured
          ? { code: `${name}.v`, stable: false }
          : { code: name, stable: true };
      }
      case "Upvalue":
        return { code: `U${e.index}.v`, stable: false };
      case "Global": {
        const site = this.site(e.line, []);
        return { code: `G(${JSON.stringify(e.name)}, ${site})`, stable: false };
      }
      case "Index": {
        let object = this.expression(e.object, out);
        if (FunctionCompiler.emits(e.key)) object = this.stabilize(object, out);
        const site = this.site(e.line, [this.describe(e.object)]);
        if (e.key.kind === "String") {
          return {
            code: `indexString(${object.code}, ${JSON.stringify(e.key.value)}, ${site})`,
            stable: false,
          };
        }
        const key = this.expression(e.key, out);
        return { code: `index(${object.code}, ${key.code}, ${site})`, stable: false };
      }
      case "Call":
      case "Method": {
        const result = this.call(e, out, "one");
        return { code: result, stable: true };
      }
      case "Paren":
        return this.expression(e.inner, out);
      case "Unary":
        return this.unary(e, out);
      case "Binary":
        return this.binary(e, out);
      case "Table":
        return this.table(e, out);
    }
  }

  unary(e: Extract<Expression, { kind: "Unary" }>, out: Output): Code {
    if (e.operator === "not") {
      const condition = this.condition(e.operand, out);
      return { code: `!${wrap(condition.code)}`, stable: condition.stable };
    }
    const operand = this.expression(e.operand, out);
    const site = this.site(e.line, [this.describe(e.operand)]);
    if (e.operator === "-") return { code: `unm(${operand.code}, ${site})`, stable: false };
    return { code: `len(${operand.code}, ${site})`, stable: false };
  }

  binary(e: Extract<Expression, { kind: "Binary" }>, out: Output): Code {
    const operator = e.operator;
    if (operator === "and" || operator === "or") return this.logical(e, out);
    if (
      operator === "==" || operator === "~=" || operator === "<" || operator === "<=" ||
      operator === ">" || operator === ">="
    ) {
      return this.comparison(e, out);
    }
    let left = this.expression(e.left, out);
    if (FunctionCompiler.emits(e.right)) left = this.stabilize(left, out);
    const right = this.expression(e.right, out);
    const site = this.site(e.line, [this.describe(e.left), this.describe(e.right)]);
    const helper = {
      "+": "add",
      "-": "sub",
      "*": "mul",
      "/": "div",
      "%": "mod",
      "^": "pow",
      "..": "concat",
    }[operator];
    return { code: `${helper}(${left.code}, ${right.code}, ${site})`, stable: false };
  }

  comparison(e: Extract<Expression, { kind: "Binary" }>, out: Output): Code {
    let left = this.expression(e.left, out);
    if (FunctionCompiler.emits(e.right)) left = this.stabilize(left, out);
    const right = this.expression(e.right, out);
    const site = this.site(e.line, []);
    switch (e.operator) {
      case "==":
      case "~=": {
        const constant = isConstant(e.left) || isConstant(e.right);
        const test = constant
          ? `${wrap(left.code)} === ${wrap(right.code)}`
          : `eq(${left.code}, ${right.code})`;
        return { code: e.operator === "==" ? `(${test})` : `!(${test})`, stable: false };
      }
      case "<":
        return { code: `lt(${left.code}, ${right.code}, ${site})`, stable: false };
      case "<=":
        return { code: `le(${left.code}, ${right.code}, ${site})`, stable: false };
      case ">":
        return { code: `gt(${left.code}, ${right.code}, ${site})`, stable: false };
      default:
        return { code: `ge(${left.code}, ${right.code}, ${site})`, stable: false };
    }
  }

  logical(e: Extract<Expression, { kind: "Binary" }>, out: Output): Code {
    const isAnd = e.operator === "and";
    const holder = this.temp();
    const left = this.expression(e.left, out);
    if (!FunctionCompiler.emits(e.right)) {
      const right = this.expression(e.right, out);
      const test = `(${holder} = ${left.code}) === undefined || ${holder} === false`;
      return {
        code: isAnd
          ? `(${test} ? ${holder} : ${right.code})`
          : `(${test} ? ${right.code} : ${holder})`,
        stable: false,
      };
    }
    out.emit(`${holder} = ${left.code};`);
    const inner = new Output();
    const right = this.expression(e.right, inner);
    inner.emit(`${holder} = ${right.code};`);
    const truthy = `(${holder} !== undefined && ${holder} !== false)`;
    const test = isAnd ? truthy : `!${truthy}`;
    out.emitCompound(`if ($R || ${test}) {\n${inner.render()}\n}`, inner.points());
    return { code: holder, stable: true };
  }

  /** An expression as a JS boolean. */
  condition(e: Expression, out: Output): Code {
    switch (e.kind) {
      case "True":
        return STABLE_TRUE;
      case "False":
      case "Nil":
        return { code: "false", stable: true };
      case "Number":
      case "String":
        return STABLE_TRUE;
      case "Unary":
        if (e.operator === "not") {
          const inner = this.condition(e.operand, out);
          return { code: `!${wrap(inner.code)}`, stable: inner.stable };
        }
        break;
      case "Paren":
        return this.condition(e.inner, out);
      case "Binary": {
        const operator = e.operator;
        if (operator === "and" || operator === "or") {
          const left = this.condition(e.left, out);
          if (!FunctionCompiler.emits(e.right)) {
            const right = this.condition(e.right, out);
            return {
              code: `(${left.code} ${operator === "and" ? "&&" : "||"} ${right.code})`,
              stable: false,
            };
          }
          const holder = this.temp();
          out.emit(`${holder} = ${left.code};`);
          const inner = new Output();
          const right = this.condition(e.right, inner);
          inner.emit(`${holder} = ${right.code};`);
          out.emitCompound(
            `if ($R || ${operator === "and" ? holder : `!${holder}`}) {\n${inner.render()}\n}`,
            inner.points(),
          );
          return { code: holder, stable: true };
        }
        if (
          operator === "==" || operator === "~=" || operator === "<" || operator === "<=" ||
          operator === ">" || operator === ">="
        ) {
          return this.comparison(e, out);
        }
        break;
      }
    }
    const value = this.expression(e, out);
    if (value.stable && /^[A-Za-z_$][\w$]*$/.test(value.code)) {
      return { code: `(${value.code} !== undefined && ${value.code} !== false)`, stable: true };
    }
    return { code: `isTruthy(${value.code})`, stable: false };
  }

  /** Emits a call; returns the temporary holding its (raw or first) result. */
  call(
    e: Extract<Expression, { kind: "Call" | "Method" }>,
    out: Output,
    want: "one" | "all" | "none",
  ): string {
    let fn: Code;
    let self: Code | null = null;
    let calleeName: { name: string; method: boolean } | null;
    let calleeDescription: string | null;
    if (e.kind === "Method") {
      self = this.stabilize(this.expression(e.object, out), out);
      const site = this.site(e.nameLine, [this.describe(e.object)]);
      fn = this.stabilize({
        code: `indexString(${self.code}, ${JSON.stringify(e.name)}, ${site})`,
        stable: false,
      }, out);
      calleeName = { name: e.name, method: true };
      calleeDescription = `method '${e.name}'`;
    } else {
      fn = this.expression(e.callee, out);
      if (!fn.stable || e.args.some((arg) => FunctionCompiler.emits(arg))) {
        fn = this.stabilize(fn, out);
      }
      calleeName = this.calleeName(e.callee);
      calleeDescription = this.describe(e.callee);
      if (e.callee.kind === "Paren") {
        calleeName = null;
      }
    }
    const args = this.arguments(e.args, out);
    if (self !== null) args.unshift(self.code);
    const point = this.point(e.line, calleeName);
    const site = this.site(e.line, [calleeDescription]);
    const invoke =
      `(typeof ${fn.code} === "function" ? ${fn.code} : callable(${fn.code}, ${site}))(${
        args.join(", ")
      })`;
    if (want === "none") {
      out.emitPoint(`$rp = ${point}; if ($R) { $R = false; resumeCall(); } else ${invoke};`, point);
      return "";
    }
    const result = this.temp();
    const normalize = want === "one"
      ? ` if (Array.isArray(${result})) ${result} = ${result}[0];`
      : "";
    out.emitPoint(
      `$rp = ${point}; ${result} = $R ? ($R = false, resumeCall()) : ${invoke};${normalize}`,
      point,
    );
    return result;
  }

  /** Argument list codes; a trailing multi-value expression is spread. */
  arguments(args: Expression[], out: Output): string[] {
    const codes: string[] = [];
    for (let index = 0; index < args.length; index++) {
      const arg = args[index]!;
      const last = index === args.length - 1;
      if (last && (arg.kind === "Call" || arg.kind === "Method")) {
        const result = this.call(arg, out, "all");
        codes.push(`...list(${result})`);
        continue;
      }
      if (last && arg.kind === "Vararg") {
        codes.push("...$va");
        continue;
      }
      let value = this.expression(arg, out);
      if (args.slice(index + 1).some((later) => FunctionCompiler.emits(later))) {
        value = this.stabilize(value, out);
      }
      codes.push(value.code);
    }
    return codes;
  }

  /** Values of an expression list adjusted to `count` (or all when count < 0), as codes. */
  valueList(
    values: Expression[],
    count: number,
    out: Output,
  ): { codes: string[]; rest: string | null } {
    const codes: string[] = [];
    let rest: string | null = null;
    for (let index = 0; index < values.length; index++) {
      const value = values[index]!;
      const last = index === values.length - 1;
      if (
        last && (value.kind === "Call" || value.kind === "Method") &&
        (count < 0 || codes.length < count)
      ) {
        rest = `list(${this.call(value, out, "all")})`;
        break;
      }
      if (last && value.kind === "Vararg" && (count < 0 || codes.length < count)) {
        rest = "$va";
        break;
      }
      if (count >= 0 && index >= count) {
        // Evaluated for its effects only.
        if (value.kind === "Call" || value.kind === "Method") this.call(value, out, "none");
        else {
          const code = this.expression(value, out);
          if (!code.stable) out.emit(`void ${code.code};`);
        }
        continue;
      }
      let code = this.expression(value, out);
      code = this.stabilize(code, out);
      codes.push(code.code);
    }
    if (count >= 0) {
      if (rest !== null) {
        const holder = this.temp();
        out.emit(`${holder} = ${rest};`);
        for (let index = 0; codes.length < count; index++) codes.push(`${holder}[${index}]`);
        rest = null;
      }
      while (codes.length < count) codes.push("undefined");
    }
    return { codes, rest };
  }

  table(e: Extract<Expression, { kind: "Table" }>, out: Output): Code {
    const items = e.items;
    if (items.length === 0) return { code: "new LuaTable()", stable: false };
    let positional = 0;
    let keyed = 0;
    for (const item of items) {
      if (item.kind === "Positional") positional++;
      else keyed++;
    }
    const lastItem = items[items.length - 1]!;
    const multi = lastItem.kind === "Positional" &&
      (lastItem.value.kind === "Call" || lastItem.value.kind === "Method" ||
        lastItem.value.kind === "Vararg");
    if (multi) positional--;
    const arraySize = runtime.roundTableSize(positional);
    const hashSize = runtime.roundTableSize(keyed);
    if (!FunctionCompiler.emits(e) && keyed === 0 && !multi) {
      const values = items.map((item) => this.expression(item.value, out).code);
      return { code: `arrayTable([${values.join(", ")}], ${arraySize})`, stable: false };
    }
    const holder = this.temp();
    out.emit(`${holder} = new LuaTable(${arraySize}, ${hashSize});`);
    const pending: string[] = [];
    let nextIndex = 1;
    for (let index = 0; index < items.length; index++) {
      const item = items[index]!;
      const last = index === items.length - 1;
      if (item.kind === "Keyed") {
        let key = this.expression(item.key, out);
        if (FunctionCompiler.emits(item.value)) key = this.stabilize(key, out);
        const value = this.expression(item.value, out);
        const site = this.site(item.line, []);
        out.emit(`tableSet(${holder}, ${key.code}, ${value.code}, ${site});`);
        continue;
      }
      if (last && multi) {
        const rest = item.value.kind === "Vararg"
          ? "$va"
          : `list(${
            this.call(item.value as Extract<Expression, { kind: "Call" | "Method" }>, out, "all")
          })`;
        for (const code of pending.splice(0)) {
          out.emit(`${holder}.setInteger(${nextIndex++}, ${code});`);
        }
        out.emit(`setList(${holder}, ${nextIndex}, ${rest});`);
        continue;
      }
      const value = this.stabilize(this.expression(item.value, out), out);
      pending.push(value.code);
    }
    for (const code of pending) out.emit(`${holder}.setInteger(${nextIndex++}, ${code});`);
    return { code: holder, stable: true };
  }

  closure(node: FunctionNode): string {
    const cells = node.upvalues.map((upvalue) =>
      upvalue.fromLocal !== null ? this.names.get(upvalue.fromLocal)! : `U${upvalue.fromUpvalue}`
    );
    return `P${node.index}(${cells.join(", ")})`;
  }

  // ---- statements -------------------------------------------------------

  block(body: Statement[], out: Output): void {
    for (const statement of body) this.statement(statement, out);
  }

  assignLocal(variable: Variable, code: string, out: Output): void {
    const name = this.names.get(variable)!;
    out.emit(variable.captured ? `${name} = { v: ${code} };` : `${name} = ${code};`);
  }

  statement(s: Statement, out: Output): void {
    switch (s.kind) {
      case "Local": {
        const { codes } = this.valueList(s.values, s.variables.length, out);
        s.variables.forEach((variable, index) => this.assignLocal(variable, codes[index]!, out));
        return;
      }
      case "LocalFunction": {
        const name = this.names.get(s.variable)!;
        if (s.variable.captured) {
          out.emit(`${name} = { v: undefined };`);
          out.emit(`${name}.v = ${this.closure(s.node)};`);
        } else out.emit(`${name} = ${this.closure(s.node)};`);
        return;
      }
      case "Assign":
        this.assignment(s, out);
        return;
      case "CallStatement":
        this.call(s.call as Extract<Expression, { kind: "Call" | "Method" }>, out, "none");
        return;
      case "Do":
        this.block(s.body, out);
        return;
      case "While": {
        const label = this.label();
        const inner = new Output();
        if (s.condition.kind !== "True") {
          const condition = this.condition(s.condition, inner);
          inner.emit(`if (!${wrap(condition.code)}) break ${label};`);
        }
        this.check(inner, 0);
        this.#loops.push(label);
        this.block(s.body, inner);
        this.#loops.pop();
        out.emitCompound(`${label}: for (;;) {\n${inner.render()}\n}`, inner.points());
        return;
      }
      case "Repeat": {
        const label = this.label();
        const inner = new Output();
        this.check(inner, 0);
        this.#loops.push(label);
        this.block(s.body, inner);
        this.#loops.pop();
        const condition = this.condition(s.condition, inner);
        inner.emit(`if (${condition.code}) break ${label};`);
        out.emitCompound(`${label}: for (;;) {\n${inner.render()}\n}`, inner.points());
        return;
      }
      case "If":
        this.ifStatement(s.clauses, s.otherwise, out);
        return;
      case "NumericFor":
        this.numericFor(s, out);
        return;
      case "GenericFor":
        this.genericFor(s, out);
        return;
      case "Return":
        this.returnStatement(s.values, out);
        return;
      case "Break":
        out.emit(`break ${this.#loops[this.#loops.length - 1]};`);
        return;
    }
  }

  label(): string {
    return `L${this.#nextLabel++}`;
  }

  /** A budget check: a resume point where a suspension may happen. */
  check(out: Output, line: number): void {
    const point = this.point(line);
    out.emitPoint(`if (--V.budget < 0) { $rp = ${point}; $R = false; tick(); }`, point);
  }

  assignment(s: Extract<Statement, { kind: "Assign" }>, out: Output): void {
    if (s.targets.length === 1 && s.values.length === 1) {
      const target = s.targets[0]!;
      const valueExpression = s.values[0]!;
      if (target.kind === "Index") {
        let object = this.expression(target.object, out);
        if (FunctionCompiler.emits(target.key) || FunctionCompiler.emits(valueExpression)) {
          object = this.stabilize(object, out);
        }
        let key = this.expression(target.key, out);
        if (FunctionCompiler.emits(valueExpression)) key = this.stabilize(key, out);
        const value = this.expression(valueExpression, out);
        const site = this.site(s.line, [this.describe(target.object)]);
        out.emit(`setIndex(${object.code}, ${key.code}, ${value.code}, ${site});`);
        return;
      }
      const value = this.expression(valueExpression, out);
      this.store(target, value.code, out, s.line);
      return;
    }
    // Targets' tables and keys first, then the values, then stores right to left.
    const prepared: { object?: string; key?: string; target: Expression }[] = [];
    for (const target of s.targets) {
      if (target.kind === "Index") {
        const object = this.stabilize(this.expression(target.object, out), out);
        const key = this.stabilize(this.expression(target.key, out), out);
        prepared.push({ object: object.code, key: key.code, target });
      } else prepared.push({ target });
    }
    const { codes } = this.valueList(s.values, s.targets.length, out);
    // A value read from a variable that is also a target must be copied before any store.
    for (let index = 0; index < codes.length; index++) {
      if (/^[A-Za-z_][\w]*\$\d+$/.test(codes[index]!)) {
        const copy = this.temp();
        out.emit(`${copy} = ${codes[index]};`);
        codes[index] = copy;
      }
    }
    for (let index = prepared.length - 1; index >= 0; index--) {
      const entry = prepared[index]!;
      const target = entry.target;
      if (target.kind === "Index") {
        const site = this.site(s.line, [this.describe(target.object)]);
        out.emit(`setIndex(${entry.object}, ${entry.key}, ${codes[index]}, ${site});`);
      } else this.store(target, codes[index]!, out, s.line);
    }
  }

  store(target: Expression, code: string, out: Output, line: number): void {
    switch (target.kind) {
      case "Local": {
        const name = this.names.get(target.variable)!;
        out.emit(target.variable.captured ? `${name}.v = ${code};` : `${name} = ${code};`);
        return;
      }
      case "Upvalue":
        out.emit(`U${target.index}.v = ${code};`);
        return;
      case "Global": {
        const site = this.site(line, []);
        out.emit(`setIndex(E, ${JSON.stringify(target.name)}, ${code}, ${site});`);
        return;
      }
      default:
        throw new Error(`cannot assign to ${target.kind}`);
    }
  }

  ifStatement(
    clauses: { condition: Expression; body: Statement[] }[],
    otherwise: Statement[] | null,
    out: Output,
  ): void {
    const [clause, ...rest] = clauses;
    const condition = this.condition(clause!.condition, out);
    const thenOutput = new Output();
    this.block(clause!.body, thenOutput);
    const elseOutput = new Output();
    if (rest.length > 0) this.ifStatement(rest, otherwise, elseOutput);
    else if (otherwise !== null) this.block(otherwise, elseOutput);
    const thenPoints = thenOutput.points();
    const elsePoints = elseOutput.points();
    let test: string;
    if (thenPoints.length > 0) {
      test = `$R ? ($rp >= ${thenPoints[0]} && $rp <= ${thenPoints[thenPoints.length - 1]}) : ${
        wrap(condition.code)
      }`;
    } else if (elsePoints.length > 0) test = `!$R && ${wrap(condition.code)}`;
    else test = condition.code;
    const elseText = elseOutput.pieces.length > 0 ? ` else {\n${elseOutput.render()}\n}` : "";
    out.emitCompound(`if (${test}) {\n${thenOutput.render()}\n}${elseText}`, [
      ...thenPoints,
      ...elsePoints,
    ]);
  }

  numericFor(s: Extract<Statement, { kind: "NumericFor" }>, out: Output): void {
    const counter = this.temp();
    const limit = this.temp();
    const step = this.temp();
    const start = this.stabilize(this.expression(s.start, out), out);
    const limitCode = this.stabilize(this.expression(s.limit, out), out);
    const stepCode = s.step === null
      ? { code: "1", stable: true }
      : this.stabilize(this.expression(s.step, out), out);
    const site = this.site(s.line, []);
    out.emit(
      `${counter} = forNumber(${start.code}, "initial value", ${site}); ${limit} = forNumber(${limitCode.code}, "limit", ${site}); ${step} = forNumber(${stepCode.code}, "step", ${site}); ${counter} -= ${step};`,
    );
    const constantStep = s.step === null ? 1 : s.step.kind === "Number" ? s.step.value : null;
    let test: string;
    if (constantStep !== null && constantStep > 0) test = `${counter} <= ${limit}`;
    else if (constantStep !== null && constantStep <= 0) test = `${limit} <= ${counter}`;
    else test = `(0 < ${step} ? ${counter} <= ${limit} : ${limit} <= ${counter})`;
    const label = this.label();
    const inner = new Output();
    inner.emit(`${counter} += ${step}; if (!(${test})) break ${label};`);
    this.assignLocal(s.variable, counter, inner);
    this.check(inner, s.line);
    this.#loops.push(label);
    this.block(s.body, inner);
    this.#loops.pop();
    out.emitCompound(`${label}: for (;;) {\n${inner.render()}\n}`, inner.points());
  }

  genericFor(s: Extract<Statement, { kind: "GenericFor" }>, out: Output): void {
    const { codes } = this.valueList(s.values, 3, out);
    const generator = this.temp();
    const state = this.temp();
    const control = this.temp();
    out.emit(`${generator} = ${codes[0]}; ${state} = ${codes[1]}; ${control} = ${codes[2]};`);
    const label = this.label();
    const inner = new Output();
    this.check(inner, s.line);
    const point = this.point(s.line, null);
    const site = this.site(s.line, [null]);
    const result = this.temp();
    const values = s.variables.map(() => this.temp());
    if (values.length === 1) values.push(this.temp());
    const assignValues = values.map((name, index) => `${name} = ${result}[${index}];`).join(" ");
    inner.emitPoint(
      `$rp = ${point}; ` +
        `if (${generator} === NEXT && !$R && ${state} instanceof LuaTable) { ${
          values[0]
        } = nextKey(${state}, ${control}); ${values[1]} = ${state}.nextValue; } ` +
        `else if (${generator} === INEXT && !$R && ${state} instanceof LuaTable && typeof ${control} === "number") { ${
          values[0]
        } = ${control} + 1; ${values[1]} = ${state}.getInteger(${values[0]}); if (${
          values[1]
        } === undefined) ${values[0]} = undefined; } ` +
        `else { ${result} = $R ? ($R = false, resumeCall()) : (typeof ${generator} === "function" ? ${generator} : callable(${generator}, ${site}))(${state}, ${control}); ` +
        `if (Array.isArray(${result})) { ${assignValues} } else { ${values[0]} = ${result}; ${
          values.slice(1).map((name) => `${name} = undefined;`).join(" ")
        } } } ` +
        `if (${values[0]} === undefined) break ${label}; ${control} = ${values[0]};`,
      point,
    );
    s.variables.forEach((variable, index) => this.assignLocal(variable, values[index]!, inner));
    this.#loops.push(label);
    this.block(s.body, inner);
    this.#loops.pop();
    out.emitCompound(`${label}: for (;;) {\n${inner.render()}\n}`, inner.points());
  }

  returnStatement(values: Expression[], out: Output): void {
    if (values.length === 0) {
      out.emit("return EMPTY;");
      return;
    }
    if (values.length === 1) {
      const value = values[0]!;
      if (value.kind === "Call" || value.kind === "Method") {
        out.emit(`return ${this.call(value, out, "all")};`);
        return;
      }
      if (value.kind === "Vararg") {
        out.emit("return $va;");
        return;
      }
      out.emit(`return ${this.expression(value, out).code};`);
      return;
    }
    const { codes, rest } = this.valueList(values, -1, out);
    if (rest !== null) out.emit(`return [${[...codes, `...${rest}`].join(", ")}];`);
    else out.emit(`return [${codes.join(", ")}];`);
  }

  // ---- the function ----------------------------------------------------

  compile(): string {
    const node = this.node;
    const body = new Output();
    // LUA_COMPAT_VARARG: a vararg function's last "parameter" is the local `arg`.
    const argVariable = node.isVararg && node.line !== 0
      ? node.params[node.params.length - 1]!
      : null;
    const params = argVariable === null ? node.params : node.params.slice(0, -1);
    for (const param of params) {
      if (param.captured) {
        const name = this.names.get(param)!;
        body.emit(`${name} = { v: ${name} };`);
      }
    }
    if (argVariable !== null) {
      this.assignLocal(argVariable, this.needsArg ? "varargTable($va)" : "undefined", body);
    }
    this.block(node.body, body);
    body.emit("return EMPTY;");
    const paramNames = params.map((param) => this.names.get(param)!);
    const jsParams = node.isVararg ? [...paramNames, "...$va"] : paramNames;
    const locals = node.locals
      .filter((variable) => !params.includes(variable) && !variable.name.startsWith("("))
      .map((variable) => this.names.get(variable)!);
    const slots = [...paramNames, ...(node.isVararg ? ["$va"] : []), ...locals, ...this.temps];
    const declared = [...locals, ...this.temps];
    const name = `F${node.index}`;
    const info = `I${node.index}`;
    return [
      `function ${name}(${jsParams.join(", ")}) {`,
      `let $rp = 0, $R = false${declared.length > 0 ? ", " + declared.join(", ") : ""};`,
      `try {`,
      `if (--V.budget < 0) { const $f = enter(${name}); if ($f !== null) { [${
        slots.join(", ")
      }] = $f.slots; $rp = $f.resumePoint; $R = $rp !== 0; } }`,
      body.render(),
      `} catch ($e) { throw unwind($e, ${info}, $rp, ${name}, $e instanceof Suspend ? [${
        slots.join(", ")
      }] : null); }`,
      `}`,
    ].join("\n");
  }
}

function wrap(code: string): string {
  return /^[\w$.]+$/.test(code) || /^\(.*\)$/.test(code) && balanced(code) ? code : `(${code})`;
}

function balanced(code: string): boolean {
  // True when the outer parentheses enclose the whole expression.
  let depth = 0;
  for (let index = 0; index < code.length; index++) {
    const char = code[index];
    if (char === '"') {
      index++;
      while (index < code.length && code[index] !== '"') {
        if (code[index] === "\\") index++;
        index++;
      }
      continue;
    }
    if (char === "(") depth++;
    else if (char === ")") {
      depth--;
      if (depth === 0 && index < code.length - 1) return false;
    }
  }
  return depth === 0;
}

function isConstant(e: Expression): boolean {
  return e.kind === "Nil" || e.kind === "True" || e.kind === "False" || e.kind === "Number" ||
    e.kind === "String";
}

class ChunkCompiler {
  readonly sites: Site[] = [];
  site(line: number, names: (string | null)[]): number {
    this.sites.push({ line, names });
    return this.sites.length - 1;
  }
}

/** A compiled chunk: instantiate it with an environment to get the main function. */
export interface CompiledChunk {
  /** The main function bound to a globals table. */
  instantiate(env: LuaTable): LuaFunction;
  /** The generated JavaScript (for debugging). */
  readonly source: string;
}

/** Compiles Lua source to a reusable chunk; throws LuaSyntaxError. */
export function compileChunk(source: string, chunkName: string, hidden = false): CompiledChunk {
  const parsed = parse(source, chunkName);
  const chunk = new ChunkCompiler();
  const chunkText = chunkId(chunkName);
  const infos: FunctionInfo[] = [];
  const parts: string[] = [];
  for (const node of parsed.functions) {
    const compiler = new FunctionCompiler(node, chunk, parsed.needsArg.has(node));
    const text = compiler.compile();
    infos[node.index] = {
      chunk: chunkText,
      lines: compiler.lines,
      callNames: compiler.callNames,
      sites: chunk.sites,
      hidden,
    };
    const upvalues = node.upvalues.map((_, index) => `U${index}`);
    parts.push(`function P${node.index}(${upvalues.join(", ")}) {\nreturn ${text};\n}`);
  }
  const header = Object.keys(helpers).map((name) => `const ${name} = H.${name};`).join("\n");
  const infoLines = infos.map((_, index) => `const I${index} = K[${index}];`).join("\n");
  const body = [
    '"use strict";',
    header,
    infoLines,
    "return function instantiate(E) {",
    "const G = (name, site) => { const value = E.getString(name); return value !== undefined || E.metatable === null ? value : index(E, name, site); };",
    ...parts,
    "return P0();",
    "};",
  ].join("\n");
  const factory = new Function("H", "K", body)(helpers, infos) as (env: LuaTable) => LuaFunction;
  return { instantiate: factory, source: body };
}

/**
 * Compiles a chunk and binds it to `env`: the result is the main function,
 * a Lua function value like any other.
 */
export function compile(source: string, chunkName: string, options: CompileOptions): LuaFunction {
  return compileChunk(source, chunkName, options.hidden ?? false).instantiate(options.env);
}

export type { LuaValue };
