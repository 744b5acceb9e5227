// docker/cli's formatter.Context and inspect.Inspect: how a `--format` string turns a list of
// rows (or inspected objects) into output, so every listing and inspect behaves the same way.
import { DOCKER_FUNCTIONS, HEADER_FUNCTIONS } from './docker-funcs.js';
import { GoMap, goJson } from './go-values.js';
import { alignTabs } from './tabwriter.js';
import { Template, TemplateError } from './template.js';

export { TemplateError } from './template.js';

export const TABLE_FORMAT_KEY = 'table';
export const RAW_FORMAT_KEY = 'raw';
export const PRETTY_FORMAT_KEY = 'pretty';
export const JSON_FORMAT_KEY = 'json';
export const DEFAULT_QUIET_FORMAT = '{{.ID}}';

export function isTableFormat(format: string): boolean {
  return format.startsWith(TABLE_FORMAT_KEY);
}

/** Format.templateString(): "json" is `{{json .}}`, "table …" loses its prefix, `\t` and `\n` become real. */
export function templateString(format: string): string {
  if (format === TABLE_FORMAT_KEY) return '';
  if (format === JSON_FORMAT_KEY) return '{{json .}}';
  const body = isTableFormat(format) ? format.slice(TABLE_FORMAT_KEY.length) : format;
  return body.replace(/^ +| +$/g, '').replace(/\\t/g, '\t').replace(/\\n/g, '\n');
}

/** Parses a `--format` template with Docker's functions; errors read "template parsing error: …". */
export function parseFormat(source: string): Template {
  try {
    return new Template(source, DOCKER_FUNCTIONS);
  } catch (error) {
    throw new TemplateError(`template parsing error: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/**
 * Context.Write: each row through the template, one per line; a table format gets a header line
 * (the same template run on the column names with the header functions) and tabwriter alignment.
 */
export function formatList(format: string, rows: readonly unknown[], header: Readonly<Record<string, string>>): string {
  const template = parseFormat(templateString(format));
  let buffer = '';
  for (const row of rows) {
    try {
      buffer += template.execute(row) + '\n';
    } catch (error) {
      throw new TemplateError(`template parsing error: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  if (!isTableFormat(format)) return buffer;
  let headerLine: string;
  try {
    headerLine = template.withFunctions(HEADER_FUNCTIONS).execute(new GoMap(header));
  } catch {
    headerLine = '';
  }
  return alignTabs(headerLine + '\n' + buffer);
}

/** Go's JSON decoding into interface{} values: objects become maps, so the raw fallback sees maps. */
function toRaw(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(toRaw);
  if (value !== null && typeof value === 'object') return new GoMap(Object.entries(value).map(([k, v]) => [k, toRaw(v)] as const), null);
  return value;
}

export interface InspectOutput {
  readonly output: string;
  /** One message per object that could not be printed; the command exits 1 when there are any. */
  readonly errors: readonly string[];
}

/**
 * inspect.Inspect: no format prints the objects as an indented JSON array, "json" as a compact
 * one; a template runs once per object (on the typed object, then on its raw JSON as maps with
 * missingkey=error, as Docker falls back for fields only the raw form has).
 */
export function formatInspect(format: string, objects: readonly unknown[]): InspectOutput {
  if (format === '') return { output: (objects.length === 0 ? '[]' : goJson(objects, '    ')) + '\n', errors: [] };
  if (format === JSON_FORMAT_KEY) return { output: goJson(objects) + '\n', errors: [] };
  const template = parseFormat(format);
  let output = '';
  const errors: string[] = [];
  for (const object of objects) {
    try {
      output += template.execute(object) + '\n';
    } catch {
      try {
        output += template.execute(toRaw(JSON.parse(goJson(object))), { missingKeyError: true }) + '\n';
      } catch (error) {
        errors.push(`template parsing error: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  }
  return { output: output === '' ? '\n' : output, errors };
}
