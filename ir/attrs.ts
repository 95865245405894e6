// Op attributes: a small schema language so that each op declares its attributes once, and the
// builder, parser, printer and verifier all check them the same way.

import type { DType } from "./types.js";
import { isDType } from "./types.js";
import type { HostTensor } from "./tensor.js";

export type AttrValue = number | boolean | string | readonly number[] | HostTensor;

export interface AttrSpec<T extends AttrValue = AttrValue> {
  readonly kind: "int" | "ints" | "float" | "bool" | "string" | "dtype" | "tensor" | "enum";
  readonly choices?: readonly string[];
  /** Absent: the attribute is required. */
  readonly default?: T;
  /** Runtime check of a value's form (kind and choices). */
  check(v: unknown): v is T;
}

export type AttrSchema = Readonly<Record<string, AttrSpec>>;
export type AttrsOf<S extends AttrSchema> = { readonly [K in keyof S]: S[K] extends AttrSpec<infer T> ? T : never };

function spec<T extends AttrValue>(kind: AttrSpec["kind"], check: (v: unknown) => boolean, def?: T, choices?: readonly string[]): AttrSpec<T> {
  const s: AttrSpec<T> = { kind, check: check as (v: unknown) => v is T };
  return { ...s, ...(def !== undefined ? { default: def } : {}), ...(choices ? { choices } : {}) };
}

const isInt = (v: unknown): boolean => typeof v === "number" && Number.isInteger(v);

export const attr = {
  int: (def?: number) => spec<number>("int", isInt, def),
  ints: (def?: readonly number[]) => spec<readonly number[]>("ints", (v) => Array.isArray(v) && v.every(isInt), def),
  float: (def?: number) => spec<number>("float", (v) => typeof v === "number", def),
  bool: (def?: boolean) => spec<boolean>("bool", (v) => typeof v === "boolean", def),
  string: (def?: string) => spec<string>("string", (v) => typeof v === "string", def),
  dtype: (def?: DType) => spec<DType>("dtype", (v) => typeof v === "string" && isDType(v), def),
  tensor: () => spec<HostTensor>("tensor", (v) => typeof v === "object" && v !== null && "data" in v && "shape" in v),
  enum: <E extends string>(choices: readonly E[], def?: E) =>
    spec<E>("enum", (v) => typeof v === "string" && (choices as readonly string[]).includes(v), def, choices),
};

export function describeAttrKind(s: AttrSpec): string {
  switch (s.kind) {
    case "int":
      return "an integer";
    case "ints":
      return "a list of integers";
    case "float":
      return "a number";
    case "bool":
      return "true or false";
    case "string":
      return "a string";
    case "dtype":
      return "a dtype (f32, i32, bool)";
    case "tensor":
      return "a dense tensor";
    case "enum":
      return `one of ${s.choices!.map((c) => JSON.stringify(c)).join(", ")}`;
  }
}

/**
 * Attributes any op may carry besides its own schema, optional and ignored by the op's semantics.
 * `group=k` puts the op in fusion group k: the fuse pass sets it and lowering turns each group
 * into one kernel (passes/fuse.ts says what a group may hold).
 */
export const GROUP_ATTR = "group";
export const RESERVED_ATTRS: AttrSchema = {
  [GROUP_ATTR]: spec<number>("int", (v) => isInt(v) && (v as number) >= 0),
};

/** The spec of an op attribute: the op's own, else a reserved one. */
export function attrSpecOf(schema: AttrSchema, key: string): AttrSpec | undefined {
  return Object.prototype.hasOwnProperty.call(schema, key) ? schema[key] : Object.prototype.hasOwnProperty.call(RESERVED_ATTRS, key) ? RESERVED_ATTRS[key] : undefined;
}
