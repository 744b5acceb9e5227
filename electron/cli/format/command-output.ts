// What every listing and inspect command does with --format, -q and --pretty, as docker/cli's
// commands do (cli/command/node/list.go and inspect.go are the models; services and tasks reuse it).
import { cliError, describeError, print } from '../output.js';
import type { ListingKind, RowContext } from './docker-shapes.js';
import { DEFAULT_QUIET_FORMAT, formatInspect, formatList, parseFormat, RAW_FORMAT_KEY, TABLE_FORMAT_KEY, TemplateError } from './formatter.js';

/** docker/cli cli/flags/options.go FormatHelp. */
export const FORMAT_HELP = `Format output using a custom template:
'table':            Print output in table format with column headers (default)
'table TEMPLATE':   Print output in table format using the given Go template
'json':             Print in JSON format
'TEMPLATE':         Print output using the given Go template.
Refer to the README's "--format" section for more information about formatting output with templates`;

/** docker/cli cli/flags/options.go InspectFormatHelp. */
export const INSPECT_FORMAT_HELP = `Format output using a custom template:
'json':             Print in JSON format
'TEMPLATE':         Print output using the given Go template.
Refer to the README's "--format" section for more information about formatting output with templates`;

function templateFailure<T>(action: () => T): T {
  try {
    return action();
  } catch (error) {
    if (error instanceof TemplateError) throw cliError('TEMPLATE_ERROR', error.message);
    throw error;
  }
}

/** newFormat(): "table" and "raw" are the kind's own formats (-q picks the ID-only one); anything else is a template. */
export function listingFormat(kind: ListingKind, format: string | undefined, quiet: boolean): string {
  const source = format === undefined || format === '' ? TABLE_FORMAT_KEY : format;
  if (source === TABLE_FORMAT_KEY) return quiet ? DEFAULT_QUIET_FORMAT : kind.defaultTable;
  if (source === RAW_FORMAT_KEY) return quiet ? kind.rawQuiet : kind.raw;
  return source;
}

export function printListing(kind: ListingKind, format: string | undefined, quiet: boolean, rows: readonly RowContext[]): void {
  const text = templateFailure(() => formatList(listingFormat(kind, format, quiet), rows, kind.headers));
  process.stdout.write(text);
}

export type InspectMode<T> =
  | { readonly format: string; readonly shape: (object: T) => unknown }
  | { readonly template: string; readonly context: (object: T) => unknown };

/**
 * inspect.Inspect: every reference is looked up; what was found is printed, and each one that
 * wasn't is reported on stderr with exit status 1 (as `docker node inspect a nope` does).
 */
export async function printInspect<T>(refs: readonly string[], lookup: (ref: string) => Promise<T>, mode: InspectMode<T>): Promise<void> {
  if ('format' in mode && mode.format !== '' && mode.format !== 'json') templateFailure(() => parseFormat(mode.format));
  const found: T[] = [];
  const failures: unknown[] = [];
  for (const ref of refs) {
    try {
      found.push(await lookup(ref));
    } catch (error) {
      // The pretty format stops at the first failure, as Docker's does.
      if ('template' in mode) throw error;
      failures.push(error);
    }
  }
  if ('template' in mode) {
    const template = templateFailure(() => parseFormat(mode.template));
    print(found.map((object) => templateFailure(() => template.execute(mode.context(object)))).join('\n'));
    return;
  }
  const { output, errors } = formatInspect(mode.format, found.map(mode.shape));
  process.stdout.write(output);
  const messages = [...failures.map(describeError), ...errors];
  if (messages.length > 0) {
    process.stderr.write(messages.join('\n') + '\n');
    process.exitCode = 1;
  }
}
