/**
 * The Lua 5.1 parser (`lparser.c`): recursive descent over the lexer's
 * tokens, producing the tree in ast.ts with names resolved to locals,
 * upvalues or globals exactly as Lua's one-pass `singlevar` resolves them.
 *
 * It follows lparser.c's structure function by function so that every
 * syntax error is raised at the same token with the same text (`'=' expected
 * near 'end'`, `'end' expected (to close 'function' at line 3) near
 * '<eof>'`), and it enforces the same limits (200 locals, 60 upvalues, 200
 * syntax levels). Numeric constant folding happens here too, with
 * `constfolding`'s rules, because it is observable (`-0` sharing a constant
 * slot with `0`, see the compiler).
 *
 * @module
 */

import type {
  BinaryOperator,
  Expression,
  FunctionNode,
  Statement,
  TableItem,
  Upvalue,
  Variable,
} from "./ast.ts";
import { Lexer, type TokenKind, tokenText } from "./lexer.ts";

const MAX_VARS = 200;
const MAX_UPVALUES = 60;
const MAX_LEVELS = 200;

const BINARY_PRIORITY: Record<string, [number, number]> = {
  "+": [6, 6],
  "-": [6, 6],
  "*": [7, 7],
  "/": [7, 7],
  "%": [7, 7],
  "^": [10, 9],
  "..": [5, 4],
  "==": [3, 3],
  "~=": [3, 3],
  "<": [3, 3],
  "<=": [3, 3],
  ">": [3, 3],
  ">=": [3, 3],
  "and": [2, 2],
  "or": [1, 1],
};
const UNARY_PRIORITY = 8;

interface Block {
  activeCount: number;
  isLoop: boolean;
}

class FunctionState {
  readonly node: FunctionNode;
  readonly parent: FunctionState | null;
  readonly active: Variable[] = [];
  readonly blocks: Block[] = [];
  /** Locals declared but not yet active (`local a, b = ...` before the `=` is done). */
  pending = 0;
  usesVararg = false;
  constructor(node: FunctionNode, parent: FunctionState | null) {
    this.node = node;
    this.parent = parent;
  }
}

/** The result of parsing a chunk. */
export interface ParsedChunk {
  main: FunctionNode;
  functions: FunctionNode[];
  /** Vararg functions that never use `...` get the 5.1 compatibility `arg` table. */
  needsArg: Set<FunctionNode>;
}

/** Parses a chunk; throws LuaSyntaxError with Lua's message. */
export function parse(source: string, chunkName: string): ParsedChunk {
  return new Parser(source, chunkName).parseChunk();
}

class Parser {
  readonly #lexer: Lexer;
  #state!: FunctionState;
  #nextVariableId = 0;
  #levels = 0;
  readonly #functions: FunctionNode[] = [];
  readonly #needsArg = new Set<FunctionNode>();

  constructor(source: string, chunkName: string) {
    this.#lexer = new Lexer(source, chunkName);
  }

  parseChunk(): ParsedChunk {
    const lexer = this.#lexer;
    const main = this.#openFunction(0);
    main.isVararg = true;
    lexer.next();
    main.body = this.#chunk();
    this.#check("<eof>");
    main.lastLine = lexer.line;
    this.#closeFunction();
    return { main, functions: this.#functions, needsArg: this.#needsArg };
  }

  // ---- helpers -------------------------------------------------------

  #kind(): TokenKind {
    return this.#lexer.token.kind;
  }

  #testNext(kind: TokenKind): boolean {
    if (this.#kind() === kind) {
      this.#lexer.next();
      return true;
    }
    return false;
  }

  #check(kind: TokenKind): void {
    if (this.#kind() !== kind) this.#errorExpected(kind);
  }

  #checkNext(kind: TokenKind): void {
    this.#check(kind);
    this.#lexer.next();
  }

  #errorExpected(kind: TokenKind): never {
    this.#lexer.syntaxError(`'${tokenText(kind)}' expected`);
  }

  #checkMatch(what: TokenKind, who: TokenKind, where: number): void {
    if (!this.#testNext(what)) {
      if (where === this.#lexer.line) this.#errorExpected(what);
      this.#lexer.syntaxError(
        `'${tokenText(what)}' expected (to close '${tokenText(who)}' at line ${where})`,
      );
    }
  }

  #checkName(): string {
    this.#check("<name>");
    const name = this.#lexer.token.value as string;
    this.#lexer.next();
    return name;
  }

  #limitError(limit: number, what: string): never {
    const line = this.#state.node.line;
    const message = line === 0
      ? `main function has more than ${limit} ${what}`
      : `function at line ${line} has more than ${limit} ${what}`;
    // luaX_lexerror with token 0: no "near" part.
    throw this.#plainError(message);
  }

  #plainError(message: string): Error {
    return this.#lexer.plainError(message);
  }

  #enterLevel(): void {
    if (++this.#levels > MAX_LEVELS) throw this.#plainError("chunk has too many syntax levels");
  }

  #leaveLevel(): void {
    this.#levels--;
  }

  // ---- functions and scopes -----------------------------------------

  #openFunction(line: number): FunctionNode {
    const node: FunctionNode = {
      line,
      lastLine: line,
      params: [],
      isVararg: false,
      body: [],
      locals: [],
      upvalues: [],
      index: this.#functions.length,
    };
    this.#functions.push(node);
    this.#state = new FunctionState(node, this.#state ?? null);
    return node;
  }

  #closeFunction(): void {
    const state = this.#state;
    if (state.node.isVararg && state.node.line !== 0 && !state.usesVararg) {
      this.#needsArg.add(state.node);
    }
    this.#state = state.parent!;
  }

  #newLocal(name: string): Variable {
    const state = this.#state;
    if (state.active.length + state.pending + 1 > MAX_VARS) {
      this.#limitError(MAX_VARS, "local variables");
    }
    state.pending++;
    const variable: Variable = { name, id: this.#nextVariableId++, captured: false };
    state.node.locals.push(variable);
    return variable;
  }

  #activate(variables: Variable[]): void {
    const state = this.#state;
    state.pending -= variables.length;
    for (const variable of variables) state.active.push(variable);
  }

  #enterBlock(isLoop: boolean): void {
    this.#state.blocks.push({ activeCount: this.#state.active.length, isLoop });
  }

  #leaveBlock(): void {
    const block = this.#state.blocks.pop()!;
    this.#state.active.length = block.activeCount;
  }

  #resolve(name: string): Expression {
    const found = this.#resolveIn(this.#state, name, true);
    if (found === null) return { kind: "Global", name, line: this.#lexer.lastLine };
    return found;
  }

  #resolveIn(state: FunctionState | null, name: string, base: boolean): Expression | null {
    if (state === null) return null;
    for (let index = state.active.length - 1; index >= 0; index--) {
      const variable = state.active[index]!;
      if (variable.name === name) {
        if (!base) variable.captured = true;
        return { kind: "Local", variable };
      }
    }
    const outer = this.#resolveIn(state.parent, name, false);
    if (outer === null) return null;
    let upvalue: Upvalue;
    if (outer.kind === "Local") {
      upvalue = { name, fromLocal: outer.variable, fromUpvalue: -1 };
    } else if (outer.kind === "Upvalue") {
      upvalue = { name, fromLocal: null, fromUpvalue: outer.index };
    } else return null;
    const upvalues = state.node.upvalues;
    for (let index = 0; index < upvalues.length; index++) {
      const existing = upvalues[index]!;
      if (
        existing.fromLocal === upvalue.fromLocal && existing.fromUpvalue === upvalue.fromUpvalue
      ) {
        return { kind: "Upvalue", index, name };
      }
    }
    if (upvalues.length + 1 > MAX_UPVALUES) {
      const saved = this.#state;
      this.#state = state;
      try {
        this.#limitError(MAX_UPVALUES, "upvalues");
      } finally {
        this.#state = saved;
      }
    }
    upvalues.push(upvalue);
    return { kind: "Upvalue", index: upvalues.length - 1, name };
  }

  // ---- statements ---------------------------------------------------

  static #blockFollow(kind: TokenKind): boolean {
    return kind === "else" || kind === "elseif" || kind === "end" || kind === "until" ||
      kind === "<eof>";
  }

  #chunk(): Statement[] {
    const body: Statement[] = [];
    this.#enterLevel();
    let last = false;
    while (!last && !Parser.#blockFollow(this.#kind())) {
      const statement = this.#statement();
      body.push(statement);
      last = statement.kind === "Return" || statement.kind === "Break";
      this.#testNext(";");
    }
    this.#leaveLevel();
    return body;
  }

  #block(): Statement[] {
    this.#enterBlock(false);
    const body = this.#chunk();
    this.#leaveBlock();
    return body;
  }

  #statement(): Statement {
    const lexer = this.#lexer;
    const line = lexer.line;
    switch (this.#kind()) {
      case "if":
        return this.#ifStatement(line);
      case "while": {
        lexer.next();
        const condition = this.#expression();
        this.#enterBlock(true);
        this.#checkNext("do");
        const body = this.#chunk();
        this.#checkMatch("end", "while", line);
        this.#leaveBlock();
        return { kind: "While", condition, body };
      }
      case "do": {
        lexer.next();
        const body = this.#block();
        this.#checkMatch("end", "do", line);
        return { kind: "Do", body };
      }
      case "for":
        return this.#forStatement(line);
      case "repeat": {
        lexer.next();
        this.#enterBlock(true);
        this.#enterBlock(false);
        const body = this.#chunk();
        this.#checkMatch("until", "repeat", line);
        const condition = this.#expression();
        this.#leaveBlock();
        this.#leaveBlock();
        return { kind: "Repeat", body, condition };
      }
      case "function":
        return this.#functionStatement(line);
      case "local":
        lexer.next();
        if (this.#testNext("function")) return this.#localFunction();
        return this.#localStatement(line);
      case "return": {
        lexer.next();
        let values: Expression[] = [];
        if (!Parser.#blockFollow(this.#kind()) && this.#kind() !== ";") {
          values = this.#expressionList();
        }
        return { kind: "Return", values, line };
      }
      case "break": {
        lexer.next();
        const blocks = this.#state.blocks;
        let inLoop = false;
        for (let index = blocks.length - 1; index >= 0; index--) {
          if (blocks[index]!.isLoop) {
            inLoop = true;
            break;
          }
        }
        if (!inLoop) this.#lexer.syntaxError("no loop to break");
        return { kind: "Break" };
      }
      default:
        return this.#expressionStatement();
    }
  }

  #ifStatement(line: number): Statement {
    const clauses: { condition: Expression; body: Statement[] }[] = [];
    do {
      this.#lexer.next();
      const condition = this.#expression();
      this.#checkNext("then");
      clauses.push({ condition, body: this.#block() });
    } while (this.#kind() === "elseif");
    let otherwise: Statement[] | null = null;
    if (this.#testNext("else")) otherwise = this.#block();
    this.#checkMatch("end", "if", line);
    return { kind: "If", clauses, otherwise };
  }

  #forStatement(line: number): Statement {
    this.#lexer.next();
    this.#enterBlock(true);
    const name = this.#checkName();
    let statement: Statement;
    switch (this.#kind()) {
      case "=":
        statement = this.#numericFor(name);
        break;
      case ",":
      case "in":
        statement = this.#genericFor(name);
        break;
      default:
        this.#lexer.syntaxError("'=' or 'in' expected");
    }
    this.#checkMatch("end", "for", line);
    this.#leaveBlock();
    return statement;
  }

  #numericFor(name: string): Statement {
    const hidden = [
      this.#newLocal("(for index)"),
      this.#newLocal("(for limit)"),
      this.#newLocal("(for step)"),
    ];
    const variable = this.#newLocal(name);
    this.#checkNext("=");
    const start = this.#expression();
    this.#checkNext(",");
    const limit = this.#expression();
    let step: Expression | null = null;
    if (this.#testNext(",")) step = this.#expression();
    this.#activate(hidden);
    this.#checkNext("do");
    const doLine = this.#lexer.lastLine;
    this.#enterBlock(false);
    this.#activate([variable]);
    const body = this.#chunk();
    this.#leaveBlock();
    return { kind: "NumericFor", variable, start, limit, step, body, line: doLine };
  }

  #genericFor(firstName: string): Statement {
    const hidden = [
      this.#newLocal("(for generator)"),
      this.#newLocal("(for state)"),
      this.#newLocal("(for control)"),
    ];
    const variables = [this.#newLocal(firstName)];
    while (this.#testNext(",")) variables.push(this.#newLocal(this.#checkName()));
    this.#checkNext("in");
    const line = this.#lexer.line;
    const values = this.#expressionList();
    this.#activate(hidden);
    this.#checkNext("do");
    this.#enterBlock(false);
    this.#activate(variables);
    const body = this.#chunk();
    this.#leaveBlock();
    return { kind: "GenericFor", variables, values, body, line };
  }

  #functionStatement(line: number): Statement {
    this.#lexer.next();
    let target: Expression = this.#resolve(this.#checkName());
    let needSelf = false;
    while (this.#kind() === "." || this.#kind() === ":") {
      const isMethod = this.#kind() === ":";
      this.#lexer.next();
      const key = this.#checkName();
      target = {
        kind: "Index",
        object: target,
        key: { kind: "String", value: key },
        line: this.#lexer.lastLine,
      };
      if (isMethod) {
        needSelf = true;
        break;
      }
    }
    const node = this.#body(needSelf, line);
    return {
      kind: "Assign",
      targets: [target],
      values: [{ kind: "Function", node }],
      line: this.#lexer.lastLine,
    };
  }

  #localFunction(): Statement {
    const variable = this.#newLocal(this.#checkName());
    this.#activate([variable]);
    const node = this.#body(false, this.#lexer.line);
    return { kind: "LocalFunction", variable, node };
  }

  #localStatement(line: number): Statement {
    const variables: Variable[] = [];
    do {
      variables.push(this.#newLocal(this.#checkName()));
    } while (this.#testNext(","));
    let values: Expression[] = [];
    if (this.#testNext("=")) values = this.#expressionList();
    this.#activate(variables);
    return { kind: "Local", variables, values, line: Math.max(line, this.#lexer.lastLine) };
  }

  #expressionStatement(): Statement {
    const first = this.#primaryExpression();
    if (first.kind === "Call" || first.kind === "Method") {
      return { kind: "CallStatement", call: first };
    }
    const targets: Expression[] = [first];
    for (;;) {
      const target = targets[targets.length - 1]!;
      if (
        target.kind !== "Local" && target.kind !== "Upvalue" && target.kind !== "Global" &&
        target.kind !== "Index"
      ) {
        this.#lexer.syntaxError("syntax error");
      }
      if (!this.#testNext(",")) break;
      this.#enterLevel();
      targets.push(this.#primaryExpression());
    }
    for (let index = 1; index < targets.length; index++) this.#leaveLevel();
    this.#checkNext("=");
    const values = this.#expressionList();
    return { kind: "Assign", targets, values, line: this.#lexer.lastLine };
  }

  // ---- expressions --------------------------------------------------

  #body(needSelf: boolean, line: number): FunctionNode {
    const node = this.#openFunction(line);
    this.#checkNext("(");
    if (needSelf) {
      const self = this.#newLocal("self");
      this.#activate([self]);
      node.params.push(self);
    }
    if (this.#kind() !== ")") {
      do {
        if (this.#kind() === "<name>") {
          const parameter = this.#newLocal(this.#checkName());
          this.#activate([parameter]);
          node.params.push(parameter);
        } else if (this.#kind() === "...") {
          this.#lexer.next();
          node.isVararg = true;
        } else this.#lexer.syntaxError("<name> or '...' expected");
      } while (!node.isVararg && this.#testNext(","));
    }
    if (node.isVararg) {
      // LUA_COMPAT_VARARG: a local named `arg` follows the parameters.
      const arg = this.#newLocal("arg");
      this.#activate([arg]);
      node.params.push(arg);
    }
    this.#checkNext(")");
    node.body = this.#chunk();
    node.lastLine = this.#lexer.line;
    this.#checkMatch("end", "function", line);
    this.#closeFunction();
    return node;
  }

  #expressionList(): Expression[] {
    const list = [this.#expression()];
    while (this.#testNext(",")) list.push(this.#expression());
    return list;
  }

  #expression(): Expression {
    return this.#subExpression(0);
  }

  #subExpression(limit: number): Expression {
    this.#enterLevel();
    const lexer = this.#lexer;
    let left: Expression;
    const unary = this.#kind();
    if (unary === "not" || unary === "-" || unary === "#") {
      lexer.next();
      const operand = this.#subExpression(UNARY_PRIORITY);
      left = foldUnary(unary, operand, lexer.lastLine);
    } else left = this.#simpleExpression();
    for (;;) {
      const operator = this.#kind();
      const priority = BINARY_PRIORITY[operator];
      if (priority === undefined || priority[0] <= limit) break;
      lexer.next();
      const right = this.#subExpression(priority[1]);
      left = foldBinary(operator as BinaryOperator, left, right, lexer.lastLine);
    }
    this.#leaveLevel();
    return left;
  }

  #simpleExpression(): Expression {
    const lexer = this.#lexer;
    const token = lexer.token;
    switch (token.kind) {
      case "<number>":
        lexer.next();
        return { kind: "Number", value: token.value as number };
      case "<string>":
        lexer.next();
        return { kind: "String", value: token.value as string };
      case "nil":
        lexer.next();
        return { kind: "Nil" };
      case "true":
        lexer.next();
        return { kind: "True" };
      case "false":
        lexer.next();
        return { kind: "False" };
      case "...": {
        if (!this.#state.node.isVararg) {
          this.#lexer.syntaxError("cannot use '...' outside a vararg function");
        }
        this.#state.usesVararg = true;
        lexer.next();
        return { kind: "Vararg" };
      }
      case "{":
        return this.#tableConstructor();
      case "function": {
        lexer.next();
        return { kind: "Function", node: this.#body(false, lexer.line) };
      }
      default:
        return this.#primaryExpression();
    }
  }

  #prefixExpression(): Expression {
    const lexer = this.#lexer;
    switch (this.#kind()) {
      case "(": {
        const line = lexer.line;
        lexer.next();
        const inner = this.#expression();
        this.#checkMatch(")", "(", line);
        return { kind: "Paren", inner };
      }
      case "<name>":
        return this.#resolve(this.#checkName());
      default:
        this.#lexer.syntaxError("unexpected symbol");
    }
  }

  #primaryExpression(): Expression {
    const lexer = this.#lexer;
    let expression = this.#prefixExpression();
    for (;;) {
      switch (this.#kind()) {
        case ".": {
          lexer.next();
          const key = this.#checkName();
          expression = {
            kind: "Index",
            object: expression,
            key: { kind: "String", value: key },
            line: lexer.lastLine,
          };
          break;
        }
        case "[": {
          lexer.next();
          const key = this.#expression();
          this.#checkNext("]");
          expression = { kind: "Index", object: expression, key, line: lexer.lastLine };
          break;
        }
        case ":": {
          lexer.next();
          const name = this.#checkName();
          const nameLine = lexer.lastLine;
          const { args, line } = this.#callArguments();
          expression = { kind: "Method", object: expression, name, args, line, nameLine };
          break;
        }
        case "(":
        case "<string>":
        case "{": {
          const { args, line } = this.#callArguments();
          expression = { kind: "Call", callee: expression, args, line };
          break;
        }
        default:
          return expression;
      }
    }
  }

  #callArguments(): { args: Expression[]; line: number } {
    const lexer = this.#lexer;
    const line = lexer.line;
    switch (this.#kind()) {
      case "(": {
        if (line !== lexer.lastLine) {
          this.#lexer.syntaxError("ambiguous syntax (function call x new statement)");
        }
        lexer.next();
        let args: Expression[] = [];
        if (this.#kind() !== ")") args = this.#expressionList();
        this.#checkMatch(")", "(", line);
        return { args, line };
      }
      case "{":
        return { args: [this.#tableConstructor()], line };
      case "<string>": {
        const value = lexer.token.value as string;
        lexer.next();
        return { args: [{ kind: "String", value }], line };
      }
      default:
        this.#lexer.syntaxError("function arguments expected");
    }
  }

  #tableConstructor(): Expression {
    const lexer = this.#lexer;
    const line = lexer.line;
    this.#checkNext("{");
    const items: TableItem[] = [];
    do {
      if (this.#kind() === "}") break;
      if (this.#kind() === "<name>" && lexer.peek().kind === "=") {
        const key = this.#checkName();
        this.#checkNext("=");
        const value = this.#expression();
        items.push({
          kind: "Keyed",
          key: { kind: "String", value: key },
          value,
          line: lexer.lastLine,
        });
      } else if (this.#kind() === "[") {
        lexer.next();
        const key = this.#expression();
        this.#checkNext("]");
        this.#checkNext("=");
        const value = this.#expression();
        items.push({ kind: "Keyed", key, value, line: lexer.lastLine });
      } else {
        items.push({ kind: "Positional", value: this.#expression() });
      }
    } while (this.#testNext(",") || this.#testNext(";"));
    this.#checkMatch("}", "{", line);
    return { kind: "Table", items, line: lexer.lastLine };
  }
}

function numeral(expression: Expression): number | undefined {
  return expression.kind === "Number" ? expression.value : undefined;
}

/** `constfolding`: arithmetic on two numerals, except results Lua refuses to fold. */
function foldBinary(
  operator: BinaryOperator,
  left: Expression,
  right: Expression,
  line: number,
): Expression {
  const a = numeral(left);
  const b = numeral(right);
  if (a !== undefined && b !== undefined) {
    let result: number | undefined;
    switch (operator) {
      case "+":
        result = a + b;
        break;
      case "-":
        result = a - b;
        break;
      case "*":
        result = a * b;
        break;
      case "/":
        if (b !== 0) result = a / b;
        break;
      case "%":
        if (b !== 0) result = a - Math.floor(a / b) * b;
        break;
      case "^":
        result = Math.pow(a, b);
        break;
    }
    if (result !== undefined && !Number.isNaN(result)) return { kind: "Number", value: result };
  }
  return { kind: "Binary", operator, left, right, line };
}

function foldUnary(operator: "-" | "not" | "#", operand: Expression, line: number): Expression {
  if (operator === "-") {
    const value = numeral(operand);
    if (value !== undefined && !Number.isNaN(-value)) return { kind: "Number", value: -value };
  }
  return { kind: "Unary", operator, operand, line };
}
