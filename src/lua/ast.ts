/**
 * The syntax tree the parser builds and the compiler turns into JS. Names are
 * already resolved (local, upvalue or global), as Lua's one-pass parser
 * resolves them, so the compiler needs no scope analysis of its own.
 *
 * Line numbers are those Lua 5.1 attaches to the instruction that can fail:
 * an operation's line is the line of its last token, a call's is the line of
 * its opening parenthesis (or string/table argument).
 *
 * @module
 */

/** A local variable of some function. */
export interface Variable {
  name: string;
  /** Unique within the chunk; the compiler derives the JS name from it. */
  id: number;
  /** Whether an inner function captures it (it then lives in a cell). */
  captured: boolean;
}

/** Where an upvalue comes from in the enclosing function. */
export interface Upvalue {
  name: string;
  /** The enclosing function's local, or the index of its own upvalue. */
  fromLocal: Variable | null;
  fromUpvalue: number;
}

/** A function body (the main chunk is one too, with line 0). */
export interface FunctionNode {
  line: number;
  lastLine: number;
  params: Variable[];
  isVararg: boolean;
  body: Statement[];
  /** Every local declared in this function (parameters included). */
  locals: Variable[];
  upvalues: Upvalue[];
  /** Index within the chunk, in order of appearance. */
  index: number;
}

/** An expression. */
export type Expression =
  | { kind: "Nil" }
  | { kind: "True" }
  | { kind: "False" }
  | { kind: "Number"; value: number }
  | { kind: "String"; value: string }
  | { kind: "Vararg" }
  | { kind: "Function"; node: FunctionNode }
  | { kind: "Local"; variable: Variable }
  | { kind: "Upvalue"; index: number; name: string }
  | { kind: "Global"; name: string; line: number }
  | { kind: "Index"; object: Expression; key: Expression; line: number }
  | { kind: "Call"; callee: Expression; args: Expression[]; line: number }
  | {
    kind: "Method";
    object: Expression;
    name: string;
    args: Expression[];
    line: number;
    nameLine: number;
  }
  | { kind: "Binary"; operator: BinaryOperator; left: Expression; right: Expression; line: number }
  | { kind: "Unary"; operator: "-" | "not" | "#"; operand: Expression; line: number }
  | { kind: "Paren"; inner: Expression }
  | { kind: "Table"; items: TableItem[]; line: number };

/** Binary operators. */
export type BinaryOperator =
  | "+"
  | "-"
  | "*"
  | "/"
  | "%"
  | "^"
  | ".."
  | "=="
  | "~="
  | "<"
  | "<="
  | ">"
  | ">="
  | "and"
  | "or";

/** A table constructor item. */
export type TableItem =
  | { kind: "Positional"; value: Expression }
  | { kind: "Keyed"; key: Expression; value: Expression; line: number };

/** A statement. */
export type Statement =
  | { kind: "Local"; variables: Variable[]; values: Expression[]; line: number }
  | { kind: "LocalFunction"; variable: Variable; node: FunctionNode }
  | { kind: "Assign"; targets: Expression[]; values: Expression[]; line: number }
  | { kind: "CallStatement"; call: Expression }
  | { kind: "Do"; body: Statement[] }
  | { kind: "While"; condition: Expression; body: Statement[] }
  | { kind: "Repeat"; body: Statement[]; condition: Expression }
  | {
    kind: "If";
    clauses: { condition: Expression; body: Statement[] }[];
    otherwise: Statement[] | null;
  }
  | {
    kind: "NumericFor";
    variable: Variable;
    start: Expression;
    limit: Expression;
    step: Expression | null;
    body: Statement[];
    line: number;
  }
  | {
    kind: "GenericFor";
    variables: Variable[];
    values: Expression[];
    body: Statement[];
    line: number;
  }
  | { kind: "Return"; values: Expression[]; line: number }
  | { kind: "Break" };
