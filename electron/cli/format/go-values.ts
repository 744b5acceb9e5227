// The few Go value semantics Docker's templates depend on, for plain JavaScript data: how fmt
// prints a value, what counts as true, and how encoding/json writes it.
//
// Models: a plain object is a Go struct (fields in declaration order; a missing field is an
// error); a GoMap is a Go map (keys sorted when printed or ranged; a missing key is "no value");
// an array is a slice; a Date is a time.Time; null is a nil pointer; NO_VALUE is an invalid value.

/** A Go map: ranged and printed in key order; `zero` is what `index` gives for a missing key. */
export class GoMap extends Map<string, unknown> {
  constructor(
    entries: Iterable<readonly [string, unknown]> | Record<string, unknown> = [],
    readonly zero: unknown = '',
  ) {
    super(Symbol.iterator in entries ? (entries as Iterable<readonly [string, unknown]>) : Object.entries(entries));
  }

  sortedKeys(): string[] {
    return [...this.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }
}

/** What a missing map key evaluates to; printed as Go prints an invalid value. */
export const NO_VALUE: unique symbol = Symbol('no value');

/** A method of a struct-like context (Docker's formatter contexts are structs with methods). */
export type GoMethod = (...args: unknown[]) => unknown;

export function isStruct(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Map) && !(value instanceof Date);
}

/** Go's text/template truth: false, 0, "", nil, and empty slices and maps are false. */
export function isTrue(value: unknown): boolean {
  if (value === NO_VALUE || value === null || value === undefined) return false;
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number') return value !== 0;
  if (typeof value === 'string') return value.length > 0;
  if (Array.isArray(value)) return value.length > 0;
  if (value instanceof Map) return value.size > 0;
  return true;
}

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}

/** time.Time's String(): "2006-01-02 15:04:05.999999999 -0700 MST", here always UTC. */
export function goTimeString(date: Date): string {
  const fraction = date.getUTCMilliseconds() === 0 ? '' : '.' + String(date.getUTCMilliseconds()).padStart(3, '0').replace(/0+$/, '');
  return (
    `${date.getUTCFullYear()}-${pad2(date.getUTCMonth() + 1)}-${pad2(date.getUTCDate())} ` +
    `${pad2(date.getUTCHours())}:${pad2(date.getUTCMinutes())}:${pad2(date.getUTCSeconds())}${fraction} +0000 UTC`
  );
}

/** time.Time as encoding/json writes it (RFC 3339 with the fraction trimmed). */
export function goTimeJson(date: Date): string {
  return date.toISOString().replace(/\.000Z$/, 'Z').replace(/(\.\d*?)0+Z$/, '$1Z');
}

/** strconv's shortest float formatting, as %v prints a float64. */
function goFloat(value: number): string {
  if (Number.isInteger(value) && Math.abs(value) < 1e21) return String(value);
  const exponent = Math.floor(Math.log10(Math.abs(value)));
  if (exponent < -4 || exponent >= 21) {
    const [mantissa, exp] = value.toExponential().split('e') as [string, string];
    const sign = exp.startsWith('-') ? '-' : '+';
    return `${mantissa}e${sign}${exp.replace(/^[-+]/, '').padStart(2, '0')}`;
  }
  return String(value);
}

/** fmt.Sprint of one value (%v). */
export function goSprint(value: unknown): string {
  if (value === NO_VALUE) return '<no value>';
  if (value === null || value === undefined) return '<nil>';
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return goFloat(value);
  if (typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (value instanceof Date) return goTimeString(value);
  if (Array.isArray(value)) return `[${value.map(goSprint).join(' ')}]`;
  if (value instanceof GoMap) return `map[${value.sortedKeys().map((k) => `${k}:${goSprint(value.get(k))}`).join(' ')}]`;
  if (value instanceof Map) return `map[${[...value.entries()].map(([k, v]) => `${String(k)}:${goSprint(v)}`).join(' ')}]`;
  if (typeof value === 'function') return '<func>';
  if (isStruct(value)) {
    const stringer = value['String'];
    if (typeof stringer === 'function') return goSprint((stringer as GoMethod).call(value));
    return `{${Object.values(value).filter((v) => typeof v !== 'function').map(goSprint).join(' ')}}`;
  }
  return String(value);
}

/** fmt.Sprint(a, b, …): a space between operands when neither is a string. */
export function goSprintMany(values: readonly unknown[]): string {
  let out = '';
  values.forEach((value, i) => {
    if (i > 0 && typeof value !== 'string' && typeof values[i - 1] !== 'string') out += ' ';
    out += goSprint(value);
  });
  return out;
}

/** encoding/json's string escaping with SetEscapeHTML(false), as Docker's `json` func uses. */
function jsonString(text: string): string {
  return JSON.stringify(text).replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

/**
 * encoding/json of a value: structs in field order (a field whose value is undefined is omitted,
 * as `omitempty` does), maps in key order, times as RFC 3339, nil as null. Methods are not data.
 */
export function goJson(value: unknown, indent = '', prefix = ''): string {
  const inner = prefix + indent;
  const open = (items: string[], left: string, right: string): string => {
    if (items.length === 0) return left + right;
    if (indent === '') return left + items.join(',') + right;
    return `${left}\n${items.map((item) => inner + item).join(',\n')}\n${prefix}${right}`;
  };
  const sep = indent === '' ? ':' : ': ';
  if (value === NO_VALUE || value === null || value === undefined) return 'null';
  if (typeof value === 'string') return jsonString(value);
  if (typeof value === 'number') return Number.isFinite(value) ? goFloat(value) : 'null';
  if (typeof value === 'boolean') return String(value);
  if (value instanceof Date) return jsonString(goTimeJson(value));
  if (Array.isArray(value)) return open(value.map((v) => goJson(v, indent, inner)), '[', ']');
  if (value instanceof Map) {
    const keys = value instanceof GoMap ? value.sortedKeys() : [...value.keys()].map(String).sort();
    return open(keys.map((k) => `${jsonString(k)}${sep}${goJson(value.get(k), indent, inner)}`), '{', '}');
  }
  if (isStruct(value)) {
    // A context that marshals itself (Docker's formatter contexts: their methods, as a map).
    const marshal = value['MarshalJSON'];
    if (typeof marshal === 'function') return goJson((marshal as GoMethod).call(value), indent, prefix);
    const fields = Object.entries(value).filter(([, v]) => v !== undefined && typeof v !== 'function');
    return open(fields.map(([k, v]) => `${jsonString(k)}${sep}${goJson(v, indent, inner)}`), '{', '}');
  }
  return 'null';
}
