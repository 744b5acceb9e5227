// What every Docker-shaped view needs, whatever the object (nodes now; services and tasks
// follow the same pattern): a listing's row context with Docker's column names and headers, and
// the little display helpers docker/cli's formatter package uses.
import { GoMap, type GoMethod } from './go-values.js';
import { TYPE_NAME } from './template.js';

/**
 * A row of a listing as docker/cli's formatter sees it: a struct whose methods are the columns
 * (`{{.Hostname}}`), which marshals as a flat object of those columns (`--format json`).
 */
export type RowContext = Readonly<Record<string, GoMethod>> & { readonly MarshalJSON: GoMethod };

/** Builds a row context from its columns; `typeName` is docker/cli's Go type, for error messages. */
export function rowContext(typeName: string, columns: Readonly<Record<string, () => unknown>>): RowContext {
  const row: Record<string | symbol, unknown> = { ...columns };
  row['MarshalJSON'] = () => new GoMap(Object.entries(columns).map(([name, column]) => [name, column()] as const));
  row[TYPE_NAME] = typeName;
  return row as RowContext;
}

/** A listing's kind: its columns' headers and formats, as docker/cli's command/<kind>/formatter.go has them. */
export interface ListingKind {
  readonly headers: Readonly<Record<string, string>>;
  /** The format for "table" (and no --format). */
  readonly defaultTable: string;
  /** The format for "raw", and for -q with it. */
  readonly raw: string;
  readonly rawQuiet: string;
}

/** formatter.PrettyPrint: the first letter upper-case, the rest lower-case; nil is "None". */
export function prettyPrint(value: unknown): string {
  if (value === null || value === undefined) return 'None';
  const text = String(value);
  if (text.length === 0) return text;
  if (text.length === 1) return text.toLowerCase();
  return text.charAt(0).toUpperCase() + text.slice(1).toLowerCase();
}

/** go-units BytesSize: binary units, four significant digits ("20MiB", "7.654GiB"). */
export function bytesSize(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB', 'ZiB', 'YiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  const digits = value.toPrecision(4);
  const trimmed = digits.includes('.') ? digits.replace(/\.?0+$/, '') : digits;
  return `${trimmed}${units[unit]}`;
}

/** A store timestamp as a Go time.Time for templates and JSON (an unparsable one stays a string). */
export function goTime(iso: string): Date | string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date;
}
