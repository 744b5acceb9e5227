// Docker's template functions, as docker/cli's templates/templates.go defines them
// (basicFunctions and HeaderFunctions), on top of Go's builtins.
import { goJson, goSprint } from './go-values.js';
import { CallError, type FunctionMap } from './template.js';

function str(value: unknown): string {
  if (typeof value !== 'string') throw new CallError(`wrong type for value; expected string; got ${value === null ? 'interface {}' : typeof value}`);
  return value;
}

function int(value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) throw new CallError(`wrong type for value; expected int; got ${typeof value}`);
  return value;
}

function args(name: string, given: readonly unknown[], want: number): void {
  if (given.length !== want) throw new CallError(`wrong number of args for ${name}: want ${want} got ${given.length}`);
}

/** strings.Title: upper-cases the first letter of each word (words split at non-letters). */
function title(text: string): string {
  return text.replace(/(^|[^\p{L}\p{N}_'])(\p{L})/gu, (_m, before: string, letter: string) => before + letter.toUpperCase());
}

/** basicFunctions (templates.go): the functions every `--format` template has. */
export const DOCKER_FUNCTIONS: FunctionMap = {
  json: (...a) => {
    args('json', a, 1);
    return goJson(a[0]);
  },
  split: (...a) => {
    args('split', a, 2);
    const [text, sep] = [str(a[0]), str(a[1])];
    return sep === '' ? [...text] : text.split(sep);
  },
  join: (...a) => {
    args('join', a, 2);
    const [elems, sep] = [a[0], str(a[1])];
    if (elems === null || elems === undefined) return '';
    if (Array.isArray(elems)) return elems.map(goSprint).join(sep);
    if (elems instanceof Map) return [...elems.values()].map(goSprint).sort().join(sep);
    throw new CallError(`expected slice, got ${typeof elems}`);
  },
  title: (...a) => {
    args('title', a, 1);
    return title(str(a[0]));
  },
  lower: (...a) => {
    args('lower', a, 1);
    return str(a[0]).toLowerCase();
  },
  upper: (...a) => {
    args('upper', a, 1);
    return str(a[0]).toUpperCase();
  },
  pad: (...a) => {
    args('pad', a, 3);
    const source = str(a[0]);
    return source === '' ? source : ' '.repeat(Math.max(0, int(a[1]))) + source + ' '.repeat(Math.max(0, int(a[2])));
  },
  truncate: (...a) => {
    args('truncate', a, 2);
    const source = str(a[0]);
    const length = int(a[1]);
    // Go slices bytes; names here are ASCII, where bytes and characters agree.
    return Buffer.byteLength(source) < length ? source : Buffer.from(source).subarray(0, length).toString('utf8');
  },
};

const identity = (...a: unknown[]): unknown => a[0];

/** HeaderFunctions (templates.go): a table's header keeps the column names as they are. */
export const HEADER_FUNCTIONS: FunctionMap = {
  json: identity,
  split: identity,
  join: identity,
  title: identity,
  lower: identity,
  upper: identity,
  truncate: identity,
};
