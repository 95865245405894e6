// Tokens of the `.tfir` text format: identifiers, %values, @symbols, numbers (with -inf), JSON
// strings and punctuation, each with its line and column; `//` comments are skipped. parser.ts
// reads the tokens; the kernel IR's text can share them.

import { TfcError } from "./errors.js";

export type TokenKind = "ident" | "value" | "symbol" | "number" | "string" | "punct" | "eof";

export interface Token {
  readonly kind: TokenKind;
  /** Source text of the token. */
  readonly text: string;
  /** Names of %values and @symbols (unquoted), string contents, punctuation. */
  readonly name: string;
  readonly num: number;
  readonly start: number;
  readonly end: number;
  readonly line: number;
  readonly column: number;
}

const PUNCT = ["->", "(", ")", "{", "}", "[", "]", "<", ">", ",", ":", "=", "?"];
const IDENT_START = /[A-Za-z_]/;
const IDENT_CHAR = /[A-Za-z0-9_.]/;
const VALUE_CHAR = /[A-Za-z0-9_.]/;
const SYMBOL_CHAR = /[A-Za-z0-9_.\/-]/;
const NUMBER = /-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/y;

export class Lexer {
  private pos = 0;
  private line = 1;
  private lineStart = 0;

  constructor(
    private readonly text: string,
    private readonly file: string,
  ) {}

  tokens(): Token[] {
    const out: Token[] = [];
    for (;;) {
      this.skipSpaceAndComments();
      const t = this.next();
      out.push(t);
      if (t.kind === "eof") return out;
    }
  }

  private skipSpaceAndComments(): void {
    const s = this.text;
    while (this.pos < s.length) {
      const c = s[this.pos]!;
      if (c === "\n") {
        this.pos++;
        this.line++;
        this.lineStart = this.pos;
      } else if (c === " " || c === "\t" || c === "\r") this.pos++;
      else if (c === "/" && s[this.pos + 1] === "/") {
        while (this.pos < s.length && s[this.pos] !== "\n") this.pos++;
      } else return;
    }
  }

  private next(): Token {
    const s = this.text;
    const start = this.pos;
    const make = (kind: TokenKind, name: string, num = NaN): Token => ({
      kind,
      text: s.slice(start, this.pos),
      name,
      num,
      start,
      end: this.pos,
      line: this.line,
      column: start - this.lineStart + 1,
    });
    if (start >= s.length) return make("eof", "");
    const c = s[start]!;
    if (c === "%" || c === "@") {
      this.pos++;
      const chars = c === "%" ? VALUE_CHAR : SYMBOL_CHAR;
      let name: string;
      if (s[this.pos] === '"') name = this.string();
      else {
        while (this.pos < s.length && chars.test(s[this.pos]!)) this.pos++;
        name = s.slice(start + 1, this.pos);
        if (!name) throw this.error(`expected a name after '${c}'`, start);
      }
      return make(c === "%" ? "value" : "symbol", name);
    }
    if (c === '"') return make("string", this.string());
    if (c === "-" && s.startsWith("-inf", start) && !IDENT_CHAR.test(s[start + 4] ?? "")) {
      this.pos += 4;
      return make("number", "-inf", -Infinity);
    }
    NUMBER.lastIndex = start;
    const num = NUMBER.exec(s);
    if (num) {
      this.pos += num[0].length;
      if (IDENT_CHAR.test(s[this.pos] ?? "")) throw this.error(`malformed number '${s.slice(start, this.pos + 1)}'`, start);
      return make("number", num[0], Number(num[0]));
    }
    if (IDENT_START.test(c)) {
      while (this.pos < s.length && IDENT_CHAR.test(s[this.pos]!)) this.pos++;
      return make("ident", s.slice(start, this.pos));
    }
    for (const p of PUNCT) {
      if (s.startsWith(p, start)) {
        this.pos += p.length;
        return make("punct", p);
      }
    }
    throw this.error(`unexpected character ${JSON.stringify(c)}`, start);
  }

  /** A JSON string literal starting at the current position; returns its contents. */
  private string(): string {
    const s = this.text;
    const start = this.pos;
    let i = start + 1;
    while (i < s.length && s[i] !== '"' && s[i] !== "\n") i += s[i] === "\\" ? 2 : 1;
    if (s[i] !== '"') throw this.error("unterminated string", start);
    this.pos = i + 1;
    try {
      return JSON.parse(s.slice(start, this.pos)) as string;
    } catch {
      throw this.error(`invalid string ${s.slice(start, this.pos)}`, start);
    }
  }

  private error(message: string, offset: number): TfcError {
    return new TfcError("TFC4001", message, { loc: { file: this.file, line: this.line, column: offset - this.lineStart + 1 } });
  }
}

/** How a token reads in an error message. */
export function describeToken(t: Token): string {
  return t.kind === "eof" ? "the end of the input" : `'${t.text}'`;
}
