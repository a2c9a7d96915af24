/**
 * A tiny JSON serializer with exact uint64 support.
 *
 * `JSON.stringify` cannot print a `bigint`, and converting one through `Number` rounds every value
 * above 2^53 (a real etcd member id in `hardState.vote` is one). {@link toJson} prints a `bigint` as
 * a plain JSON number with all its digits, and otherwise formats exactly like
 * `JSON.stringify(value, null, indent)` (which, for the values the CLI prints, is also what Go's
 * `json.Encoder` with `SetIndent("", "  ")` and HTML escaping off prints).
 */

/** A value {@link toJson} can print. `undefined` object members are left out, as by `JSON.stringify`. */
export type JsonValue =
  null | boolean | number | bigint | string | readonly JsonValue[] | { readonly [key: string]: JsonValue | undefined };

function quote(s: string): string {
  // Go's encoder also escapes U+2028 and U+2029; JSON.stringify does not.
  return JSON.stringify(s)
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

function write(value: JsonValue, indent: string, current: string): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'bigint':
      return value.toString(10);
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`toJson: cannot print the number ${value}`);
      return JSON.stringify(value);
    case 'string':
      return quote(value);
    default:
      break;
  }
  const inner = current + indent;
  const nl = indent === '' ? '' : '\n';
  const sep = indent === '' ? ':' : ': ';
  if (Array.isArray(value)) {
    const items = value as readonly JsonValue[];
    if (items.length === 0) return '[]';
    return `[${nl}${items.map((v) => inner + write(v, indent, inner)).join(`,${nl}`)}${nl}${current}]`;
  }
  const obj = value as { readonly [key: string]: JsonValue | undefined };
  const members: string[] = [];
  for (const key of Object.keys(obj)) {
    const v = obj[key];
    if (v === undefined) continue;
    members.push(`${inner}${quote(key)}${sep}${write(v, indent, inner)}`);
  }
  if (members.length === 0) return '{}';
  return `{${nl}${members.join(`,${nl}`)}${nl}${current}}`;
}

/**
 * Prints `value` as JSON, `bigint`s as exact integers.
 * @param value - what to print
 * @param indent - indentation per level; `''` prints on one line (default two spaces)
 * @returns the JSON text, without a trailing newline
 */
export function toJson(value: JsonValue, indent = '  '): string {
  return write(value, indent, '');
}
