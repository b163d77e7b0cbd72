/**
 * A conservative reader and writer of MLflow search filters (`experiments/search`,
 * `registered-models/search`), so tag-mode tenancy can append its tenant constraint.
 *
 * MLflow (`mlflow/utils/search_utils.py`, SearchExperimentsUtils / SearchModelUtils) tokenizes
 * the filter with sqlparse, whose string rules (`''`, `\'` as escapes), comments (`--`, `# `,
 * `/* *\/`), dollar quotes and `;` differ from a naive reading, then trims the first and last
 * character of each quoted value. If this parser and sqlparse disagreed on where a string ends,
 * an appended ` AND tags.\`k\` = 't'` could vanish into a literal or a comment. So this grammar
 * accepts only a subset on which both readings provably coincide — quoted text holds no quote
 * and no backslash, and nothing outside quotes can start a comment, a placeholder or a second
 * statement — and forwards its own canonical serialization, never the caller's text.
 */
import { GatehouseError } from '../../errors.ts';

export interface FilterClause {
  /** The identifier as written: `name`, `attribute.name`, `tags.owner`, tags.`a.b`, tags."x". */
  readonly key: string;
  /** Upper-cased: = != < <= > >= LIKE ILIKE IN NOT IN IS NULL IS NOT NULL. */
  readonly comparator: string;
  /** A string, a number, a list of strings (IN / NOT IN), or absent (IS NULL / IS NOT NULL). */
  readonly value?: string | number | readonly string[];
}

/** Longest filter accepted, in UTF-8 bytes. */
export const MAX_FILTER_BYTES = 16 * 1024;
/** Most comparisons accepted in one filter. */
export const MAX_FILTER_CLAUSES = 64;

const SYMBOL_COMPARATORS = new Set(['=', '!=', '<', '<=', '>', '>=']);
const VALUE_COMPARATORS = new Set([...SYMBOL_COMPARATORS, 'LIKE', 'ILIKE']);
const LIST_COMPARATORS = new Set(['IN', 'NOT IN']);
const NULL_COMPARATORS = new Set(['IS NULL', 'IS NOT NULL']);
/**
 * Words refused as unquoted identifier parts: sqlparse reads them as keywords that group or
 * join (CASE ... END, BETWEEN ... AND), so a key spelled so could regroup what follows.
 * Quote the key instead (tags.`end`).
 */
const RESERVED = new Set([
  'AND', 'OR', 'NOT', 'IN', 'IS', 'NULL', 'LIKE', 'ILIKE', 'RLIKE', 'REGEXP', 'ESCAPE', 'BETWEEN', 'EXISTS',
  'CASE', 'WHEN', 'THEN', 'ELSE', 'END', 'BEGIN', 'IF', 'LOOP', 'WHILE', 'FOR', 'REPEAT', 'DECLARE', 'CREATE', 'GO',
  'SELECT', 'FROM', 'WHERE', 'AS', 'USING', 'VALUES', 'ASC', 'DESC', 'NULLS',
]);

const WORD = /[A-Za-z_][A-Za-z0-9_]*/y;
const PLAIN_NAME = /^[A-Za-z0-9_]+$/;
const NUMBER = /-?[0-9]+(?:\.[0-9]+)?/y;
const CANONICAL_NUMBER = /^-?[0-9]+(?:\.[0-9]+)?$/;
const OPERATOR_RUN = /[<>=~!]+/y;
/** C0 and C1 controls and DEL. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
/** What may never appear inside a quoted value or quoted key. */
const QUOTE_OR_BACKSLASH = /['"`\\]/;

const refuse = (detail: string): never => {
  throw new GatehouseError('GATEHOUSE_REQUEST_UNSAFE_FILTER', detail);
};

interface Identifier {
  readonly prefix: string | undefined;
  readonly name: string;
  readonly quoted: boolean;
  readonly end: number;
}

function readWord(text: string, pos: number): string | undefined {
  WORD.lastIndex = pos;
  const m = WORD.exec(text);
  return m?.[0];
}

/** Quoted text from `pos` (which holds the opening quote) to the matching quote. */
function readQuoted(text: string, pos: number, what: string): { content: string; end: number } {
  const quote = text[pos]!;
  const close = text.indexOf(quote, pos + 1);
  if (close < 0) refuse(`unterminated ${what} at offset ${pos}`);
  const content = text.slice(pos + 1, close);
  if (content.includes('\\')) refuse(`${what} at offset ${pos} contains a backslash`);
  if (QUOTE_OR_BACKSLASH.test(content)) refuse(`${what} at offset ${pos} contains a quote character`);
  // `'a''b'` is one string to sqlparse, two to a naive reader.
  if (text[close + 1] === '\'' || text[close + 1] === '"' || text[close + 1] === '`') refuse(`${what} at offset ${pos} is followed by a quote (doubled or adjacent quotes)`);
  return { content, end: close + 1 };
}

function checkWord(w: string): void {
  if (RESERVED.has(w.toUpperCase())) refuse(`"${w}" is a reserved word; quote the key (tags.\`${w}\`)`);
}

function readIdentifier(text: string, pos: number): Identifier {
  const first = readWord(text, pos);
  if (first === undefined) return refuse(`expected a key at offset ${pos}`);
  checkWord(first);
  const words = [first];
  let at = pos + first.length;
  while (text[at] === '.') {
    const c = text[at + 1];
    if (c === '`' || c === '"') {
      if (words.length !== 1) refuse(`a quoted key part must directly follow the prefix (offset ${at + 1})`);
      const q = readQuoted(text, at + 1, 'quoted key');
      if (q.content === '') refuse(`empty quoted key at offset ${at + 1}`);
      return { prefix: first, name: q.content, quoted: true, end: q.end };
    }
    const w = readWord(text, at + 1);
    if (w === undefined) refuse(`expected a name after "." at offset ${at}`);
    words.push(w!);
    at += 1 + w!.length;
  }
  words.forEach(checkWord);
  if (words.length === 1) return { prefix: undefined, name: first, quoted: false, end: at };
  return { prefix: first, name: words.slice(1).join('.'), quoted: false, end: at };
}

function spacesFrom(text: string, pos: number): number {
  while (text[pos] === ' ') pos++;
  return pos;
}

function checkNumber(n: number, source: string): void {
  if (!Number.isFinite(n) || Math.abs(n) > Number.MAX_SAFE_INTEGER || !CANONICAL_NUMBER.test(String(n))) refuse(`number ${source} cannot be represented exactly`);
}

function readScalar(text: string, pos: number): { value: string | number; end: number } {
  const c = text[pos];
  if (c === '\'' || c === '"') {
    const q = readQuoted(text, pos, 'string value');
    return { value: q.content, end: q.end };
  }
  NUMBER.lastIndex = pos;
  const m = NUMBER.exec(text);
  if (m) {
    const end = pos + m[0].length;
    // sqlparse reads `5e3`, `0x1f`, `5.` or `5abc` differently; a number must stand alone.
    if (end < text.length && text[end] !== ' ' && text[end] !== ',' && text[end] !== ')') refuse(`malformed number at offset ${pos}`);
    const n = Number(m[0]);
    checkNumber(n, m[0]);
    return { value: n, end };
  }
  return refuse(`expected a quoted string or a number at offset ${pos}`);
}

function readList(text: string, pos: number): { value: string[]; end: number } {
  if (text[pos] !== '(') refuse(`expected "(" after IN at offset ${pos}`);
  const items: string[] = [];
  let at = pos + 1;
  for (;;) {
    at = spacesFrom(text, at);
    const c = text[at];
    if (c !== '\'' && c !== '"') refuse(`an IN list holds quoted strings only (offset ${at})`);
    const q = readQuoted(text, at, 'string value');
    items.push(q.content);
    if (items.length > MAX_FILTER_CLAUSES * 16) refuse('IN list too long');
    at = spacesFrom(text, q.end);
    if (text[at] === ')') return { value: items, end: at + 1 };
    if (text[at] !== ',') refuse(`expected "," or ")" in an IN list at offset ${at}`);
    at++;
  }
}

/** Reads the word at `pos` case-insensitively when it equals `want` and ends there. */
function keywordAt(text: string, pos: number, want: string): boolean {
  const w = readWord(text, pos);
  return w !== undefined && w.toUpperCase() === want;
}

function readComparator(text: string, pos: number): { comparator: string; end: number } {
  OPERATOR_RUN.lastIndex = pos;
  const op = OPERATOR_RUN.exec(text);
  if (op) {
    if (!SYMBOL_COMPARATORS.has(op[0])) refuse(`unsupported comparator "${op[0]}"`);
    return { comparator: op[0], end: pos + op[0].length };
  }
  const w = readWord(text, pos)?.toUpperCase();
  const after = pos + (w?.length ?? 0);
  // Multi-word comparators take exactly one space between words, as MLflow compares
  // sqlparse's token text with "IS NOT NULL".
  if (w === 'LIKE' || w === 'ILIKE' || w === 'IN') return { comparator: w, end: after };
  if (w === 'NOT' && text[after] === ' ' && keywordAt(text, after + 1, 'IN')) return { comparator: 'NOT IN', end: after + 3 };
  if (w === 'IS' && text[after] === ' ') {
    if (keywordAt(text, after + 1, 'NULL')) return { comparator: 'IS NULL', end: after + 5 };
    if (keywordAt(text, after + 1, 'NOT') && text[after + 4] === ' ' && keywordAt(text, after + 5, 'NULL')) return { comparator: 'IS NOT NULL', end: after + 9 };
  }
  return refuse(`expected a comparator at offset ${pos}`);
}

function checkText(filter: string): void {
  if (Buffer.byteLength(filter, 'utf8') > MAX_FILTER_BYTES) refuse(`filter longer than ${MAX_FILTER_BYTES} bytes`);
  if (!filter.isWellFormed()) refuse('filter contains an unpaired surrogate');
  if (CONTROL.test(filter)) refuse('filter contains a control character (tabs and newlines included)');
}

/**
 * Parses an MLflow search filter into its comparisons. An empty or all-space filter has none.
 * Throws GatehouseError GATEHOUSE_REQUEST_UNSAFE_FILTER, with the reason as detail, for anything
 * outside the conservative grammar (OR, parentheses, comments, `;`, escapes, ...).
 */
export function parseSearchFilter(filter: string): FilterClause[] {
  checkText(filter);
  const clauses: FilterClause[] = [];
  let pos = spacesFrom(filter, 0);
  if (pos === filter.length) return clauses;
  for (;;) {
    const id = readIdentifier(filter, pos);
    const key = filter.slice(pos, id.end);
    pos = spacesFrom(filter, id.end);
    const { comparator, end } = readComparator(filter, pos);
    pos = end;
    if (NULL_COMPARATORS.has(comparator)) {
      clauses.push({ key, comparator });
    } else {
      const afterOp = spacesFrom(filter, pos);
      const { value, end: valueEnd } = LIST_COMPARATORS.has(comparator) ? readList(filter, afterOp) : readScalar(filter, afterOp);
      clauses.push({ key, comparator, value });
      pos = valueEnd;
    }
    if (clauses.length > MAX_FILTER_CLAUSES) refuse(`more than ${MAX_FILTER_CLAUSES} comparisons`);
    const next = spacesFrom(filter, pos);
    if (next === filter.length) return clauses;
    if (next === pos) refuse(`expected a space after a comparison at offset ${pos}`);
    const w = readWord(filter, next);
    if (w?.toUpperCase() === 'OR') refuse('OR is not supported (MLflow joins comparisons with AND only)');
    if (w?.toUpperCase() === 'AND' && next + 3 === filter.length) refuse('AND ends the filter');
    if (w?.toUpperCase() !== 'AND' || filter[next + 3] !== ' ') refuse(`expected AND at offset ${next}, found ${JSON.stringify(filter.slice(next, next + 8))}`);
    pos = spacesFrom(filter, next + 4);
  }
}

function serializeKey(key: string): string {
  checkText(key);
  const id = readIdentifier(key, 0);
  if (id.end !== key.length) refuse(`malformed key ${JSON.stringify(key)}`);
  if (id.prefix === undefined) return id.name;
  const plain = !id.quoted && PLAIN_NAME.test(id.name);
  return `${id.prefix}.${plain ? id.name : `\`${id.name}\``}`;
}

function serializeString(value: string): string {
  checkText(value);
  if (QUOTE_OR_BACKSLASH.test(value)) refuse('a value contains a quote character or a backslash');
  return `'${value}'`;
}

function serializeValue(value: FilterClause['value']): string {
  if (typeof value === 'string') return serializeString(value);
  if (typeof value === 'number') {
    checkNumber(value, String(value));
    return String(value);
  }
  return refuse('a comparison needs a string or a number');
}

/**
 * The canonical text forwarded to MLflow: single spaces, upper-case keywords, keys backquoted
 * when quoted or not plain, values in single quotes. Refuses (GATEHOUSE_REQUEST_UNSAFE_FILTER)
 * any clause the parser would not have produced.
 */
export function serializeFilter(clauses: readonly FilterClause[]): string {
  return clauses
    .map((c) => {
      const key = serializeKey(c.key);
      if (NULL_COMPARATORS.has(c.comparator)) {
        if (c.value !== undefined) refuse(`${c.comparator} takes no value`);
        return `${key} ${c.comparator}`;
      }
      if (LIST_COMPARATORS.has(c.comparator)) {
        const list = c.value;
        if (!Array.isArray(list) || list.length === 0) refuse(`${c.comparator} needs a non-empty list of strings`);
        return `${key} ${c.comparator} (${(list as readonly unknown[]).map((v) => (typeof v === 'string' ? serializeString(v) : refuse('an IN list holds strings only'))).join(', ')})`;
      }
      if (!VALUE_COMPARATORS.has(c.comparator)) refuse(`unsupported comparator ${JSON.stringify(c.comparator)}`);
      return `${key} ${c.comparator} ${serializeValue(c.value)}`;
    })
    .join(' AND ');
}

/**
 * The caller's filter re-serialized with ` AND tags.`<tagKey>` = '<tenant>'` appended
 * (tag-mode tenancy, issue 4 rule 4). `tagKey` and `tenant` come from configuration: one that
 * cannot be written safely is a configuration bug and throws a plain Error.
 */
export function constrainFilter(filter: string | undefined | null, tagKey: string, tenant: string): string {
  const tenantClause: FilterClause = { key: `tags.\`${tagKey}\``, comparator: '=', value: tenant };
  try {
    serializeFilter([tenantClause]);
  } catch {
    throw new Error(`tenant tag key ${JSON.stringify(tagKey)} or tenant ${JSON.stringify(tenant)} cannot be written into a search filter (quotes, backslashes, control characters)`);
  }
  const clauses = filter === undefined || filter === null ? [] : parseSearchFilter(filter);
  return serializeFilter([...clauses, tenantClause]);
}
