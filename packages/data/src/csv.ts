/**
 * Tabular data from CSV: an RFC 4180 parser (quoted fields, escaped quotes, newlines inside
 * quotes, CRLF), typed columns, category encoding, missing-value reports, and tensors of
 * features and labels.
 * @module
 */
import { ArgumentError, FormatError, TesseraError, tensor, type Tensor } from '@tessera/core';

/**
 * Column types: `float32` and `int32` numbers, `string` (kept as text, never in tensors),
 * `category` (each distinct text mapped to an int id; the mapping is returned).
 * @example
 * const columns: Record<string, CsvColumnType> = { age: 'int32', income: 'float32', city: 'category' };
 */
export type CsvColumnType = 'float32' | 'int32' | 'string' | 'category';

/**
 * Options of {@link parseCsv} and {@link loadCsv}.
 * @example
 * await loadCsv('data.tsv', { delimiter: '\t', label: 'target', missing: 'nan' });
 */
export interface CsvOptions {
  /**
   * The columns to load and their types, by name; the others are skipped. Omit to load
   * every column with an inferred type (int32 if every value is an integer, else float32 if
   * every value is a number, else string).
   */
  columns?: Record<string, CsvColumnType>;
  /** The first (non-skipped) line holds the column names (default true). */
  header?: boolean;
  /** Column names to use instead of the header (required names otherwise are "0", "1", …). */
  names?: string[];
  /** Field separator, one character (default ','). */
  delimiter?: string;
  /**
   * The label column: kept out of the features and returned as `labels` (int32 for int32
   * and category columns, float32 for float32 ones). An inferred string label becomes a category.
   */
  label?: string;
  /** Lines to skip before the header or the first row (default 0). */
  skipRows?: number;
  /**
   * What to do with a missing value in a float32/int32/category column: `'error'` (default)
   * throws a FormatError naming the line and column; `'nan'` stores NaN (float32) or -1
   * (category) and lists it in `missing` (int32 columns cannot hold a missing value).
   */
  missing?: 'error' | 'nan';
  /** Texts that mean "missing" (default `''`, `NA`, `N/A`, `NaN`, `nan`, `null`, `NULL`, `?`). */
  missingValues?: string[];
  /** Fixed id → value lists for category columns (an unseen value is then an error). */
  categories?: Record<string, string[]>;
}

/**
 * One loaded column: its type and host values.
 * @example
 * const col: CsvColumn = parseCsv('a\n1\n').columns.a!; // { type: 'int32', values: Int32Array [1] }
 */
export type CsvColumn =
  | { type: 'float32'; values: Float32Array }
  | { type: 'int32'; values: Int32Array }
  | { type: 'category'; values: Int32Array; categories: string[] }
  | { type: 'string'; values: string[] };

/**
 * A missing value: 0-based data row, 1-based line in the text, and column name.
 * @example
 * parseCsv('a\n1\nNA\n', { missing: 'nan', columns: { a: 'float32' } }).missing // [{ row: 1, line: 3, column: 'a' }]
 */
export interface CsvMissing {
  row: number;
  line: number;
  column: string;
}

/**
 * What {@link parseCsv} returns: host columns only (no tensors).
 * @example
 * const t: CsvTable = parseCsv('x,y\n1,a\n'); t.rows // 1
 */
export interface CsvTable {
  /** Names of the loaded columns, in file order. */
  names: string[];
  /** Number of data rows. */
  rows: number;
  columns: Record<string, CsvColumn>;
  /** For each category column, its values in id order (`categories.color[2]` is the text of id 2). */
  categories: Record<string, string[]>;
  /** Missing values (only with `missing: 'nan'`; otherwise the first one throws). */
  missing: CsvMissing[];
}

/**
 * What {@link loadCsv} returns: the table plus tensors that belong to the caller.
 * @example
 * const { features, labels, featureNames }: CsvData = await loadCsv(path, { label: 'y' });
 * dispose([features, labels]);
 */
export interface CsvData extends CsvTable {
  /** float32 `[rows, featureNames.length]`: every loaded column except the label and string columns. */
  features: Tensor;
  /** The label column `[rows]`, or null without `label`. */
  labels: Tensor | null;
  featureNames: string[];
}

const DEFAULT_MISSING = ['', 'NA', 'N/A', 'NaN', 'nan', 'null', 'NULL', '?'];
const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$|^[+-]?(?:Infinity|inf|Inf)$/;

interface Record_ {
  fields: string[];
  line: number;
}

/** Splits CSV text into records (RFC 4180), skipping blank lines. */
function records(text: string, delimiter: string, op: string): Record_[] {
  const out: Record_[] = [];
  const d = delimiter.charCodeAt(0);
  const n = text.length;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 1;
  while (i < n) {
    const startLine = line;
    const fields: string[] = [];
    let blank = true;
    for (;;) {
      // One field.
      let value: string;
      if (text.charCodeAt(i) === 0x22 /* " */) {
        blank = false;
        const quoteLine = line;
        let s = '';
        let j = i + 1;
        for (;;) {
          const q = text.indexOf('"', j);
          if (q < 0) throw new FormatError(op, `line ${quoteLine}: quoted field never closes (missing ")`);
          s += text.slice(j, q);
          for (let k = j; k < q; k++) if (text.charCodeAt(k) === 0x0a || (text.charCodeAt(k) === 0x0d && text.charCodeAt(k + 1) !== 0x0a)) line++;
          if (text.charCodeAt(q + 1) === 0x22) {
            s += '"';
            j = q + 2;
          } else {
            i = q + 1;
            break;
          }
        }
        const c = text.charCodeAt(i);
        if (i < n && c !== d && c !== 0x0a && c !== 0x0d) {
          throw new FormatError(op, `line ${line}: unexpected ${JSON.stringify(text[i])} after a closing quote (expected ${JSON.stringify(delimiter)} or end of line)`);
        }
        value = s;
      } else {
        let j = i;
        while (j < n) {
          const c = text.charCodeAt(j);
          if (c === d || c === 0x0a || c === 0x0d) break;
          j++;
        }
        value = text.slice(i, j);
        if (value.length > 0) blank = false;
        i = j;
      }
      fields.push(value);
      if (i < n && text.charCodeAt(i) === d) {
        blank = false;
        i++;
        continue;
      }
      break;
    }
    // End of record.
    if (i < n) {
      if (text.charCodeAt(i) === 0x0d && text.charCodeAt(i + 1) === 0x0a) i += 2;
      else i++;
      line++;
    }
    if (!blank) out.push({ fields, line: startLine });
  }
  return out;
}

function parseNumber(s: string): number | undefined {
  const t = s.trim();
  if (!NUMBER.test(t)) return undefined;
  if (/inf/i.test(t)) return t.startsWith('-') ? -Infinity : Infinity;
  return Number(t);
}

/**
 * Parses CSV text into typed host columns (no tensors, no backend needed). See
 * {@link loadCsv} for the options; errors are FormatErrors naming the line and column.
 * @example
 * const table = parseCsv('x,y,color\n1,2.5,red\n3,4,blue\n');
 * table.columns.x   // { type: 'int32', values: Int32Array [1, 3] }
 * table.columns.color // { type: 'string', values: ['red', 'blue'] }
 */
export function parseCsv(text: string, opts: CsvOptions = {}): CsvTable {
  return parseWith('parseCsv', text, opts);
}

function parseWith(op: string, text: string, opts: CsvOptions): CsvTable {
  if (typeof text !== 'string') throw new ArgumentError(op, `expected CSV text, got ${text === null ? 'null' : typeof text}`);
  const delimiter = opts.delimiter ?? ',';
  if (typeof delimiter !== 'string' || delimiter.length !== 1 || delimiter === '"' || delimiter === '\n' || delimiter === '\r') {
    throw new ArgumentError(op, `delimiter must be one character other than a quote or newline, got ${JSON.stringify(delimiter)}`);
  }
  const skip = opts.skipRows ?? 0;
  if (!Number.isSafeInteger(skip) || skip < 0) throw new ArgumentError(op, `skipRows must be a non-negative integer, got ${String(skip)}`);
  const policy = opts.missing ?? 'error';
  if (policy !== 'error' && policy !== 'nan') throw new ArgumentError(op, `missing must be 'error' or 'nan', got ${String(policy)}`);
  const missingSet = new Set(opts.missingValues ?? DEFAULT_MISSING);

  // Skip raw lines first (they may not even be valid CSV).
  let body = text;
  for (let k = 0; k < skip; k++) {
    const nl = body.search(/\r\n|\n|\r/);
    body = nl < 0 ? '' : body.slice(nl + (body.startsWith('\r\n', nl) ? 2 : 1));
  }
  const recs = records(body, delimiter, op);
  for (const r of recs) r.line += skip;

  let names: string[];
  let dataRecs: Record_[];
  if (opts.header ?? true) {
    if (recs.length === 0) throw new FormatError(op, 'the text has no header line');
    names = recs[0]!.fields.map((f, i) => (f.trim() === '' ? `column_${i}` : f.trim()));
    dataRecs = recs.slice(1);
  } else {
    const width = recs.length > 0 ? recs[0]!.fields.length : (opts.names?.length ?? 0);
    names = Array.from({ length: width }, (_, i) => String(i));
    dataRecs = recs;
  }
  if (opts.names !== undefined) {
    if (!Array.isArray(opts.names) || opts.names.length !== names.length) {
      throw new ArgumentError(op, `names has ${Array.isArray(opts.names) ? opts.names.length : 'no'} entries but the rows have ${names.length} fields`);
    }
    names = opts.names.map(String);
  }
  const seen = new Set<string>();
  for (const name of names) {
    if (seen.has(name)) throw new FormatError(op, `column name ${JSON.stringify(name)} appears twice in the header`);
    seen.add(name);
  }
  for (const r of dataRecs) {
    if (r.fields.length !== names.length) {
      throw new FormatError(
        op,
        `line ${r.line} has ${r.fields.length} fields but ${opts.header ?? true ? 'the header' : 'the first row'} has ${names.length} (delimiter ${JSON.stringify(delimiter)}; skipRows or header: false may help)`,
      );
    }
  }

  // Which columns, with which types.
  const wanted = opts.columns;
  if (wanted !== undefined) {
    for (const [name, type] of Object.entries(wanted)) {
      if (!seen.has(name)) throw new ArgumentError(op, `column ${JSON.stringify(name)} is not in the data (columns: ${names.slice(0, 40).join(', ')}${names.length > 40 ? ', …' : ''})`);
      if (!['float32', 'int32', 'string', 'category'].includes(type)) {
        throw new ArgumentError(op, `column ${JSON.stringify(name)} has type ${JSON.stringify(type)}; expected 'float32', 'int32', 'string' or 'category'`);
      }
    }
  }
  const label = opts.label;
  if (label !== undefined && (!seen.has(label) || (wanted !== undefined && wanted[label] === undefined))) {
    throw new ArgumentError(op, `label column ${JSON.stringify(label)} is not ${seen.has(label) ? 'among the loaded columns' : 'in the data'}`);
  }
  const rows = dataRecs.length;
  const table: CsvTable = { names: [], rows, columns: {}, categories: {}, missing: [] };
  const types = names.map((name, c): CsvColumnType | undefined => {
    const type = wanted === undefined ? inferType(dataRecs, c, missingSet) : wanted[name];
    return wanted === undefined && name === label && type === 'string' ? 'category' : type;
  });
  if (policy === 'error') {
    // Report the first missing value in reading order (columns are parsed one at a time).
    for (let row = 0; row < rows; row++) {
      const fields = dataRecs[row]!.fields;
      for (let c = 0; c < names.length; c++) {
        const type = types[c];
        if (type === undefined || type === 'string' || !missingSet.has(fields[c]!.trim())) continue;
        if (type === 'category' && opts.categories?.[names[c]!]?.includes(fields[c]!)) continue;
        throw new FormatError(op, `missing value at line ${dataRecs[row]!.line} (data row ${row}), column ${JSON.stringify(names[c])}`);
      }
    }
  }
  names.forEach((name, c) => {
    const type = types[c];
    if (type === undefined) return;
    table.names.push(name);
    table.columns[name] = parseColumn(op, dataRecs, c, name, type, policy, missingSet, opts.categories?.[name], table);
    const col = table.columns[name]!;
    if (col.type === 'category') table.categories[name] = col.categories;
  });
  table.missing.sort((a, b) => a.row - b.row || names.indexOf(a.column) - names.indexOf(b.column));
  return table;
}

function inferType(recs: readonly Record_[], c: number, missingSet: Set<string>): CsvColumnType {
  let allInt = true;
  let anyValue = false;
  for (const r of recs) {
    const s = r.fields[c]!;
    if (missingSet.has(s.trim())) continue;
    const v = parseNumber(s);
    if (v === undefined) return 'string';
    anyValue = true;
    if (allInt && !(Number.isInteger(v) && v >= -2147483648 && v <= 2147483647)) allInt = false;
  }
  return allInt && anyValue ? 'int32' : 'float32';
}

function parseColumn(
  op: string,
  recs: readonly Record_[],
  c: number,
  name: string,
  type: CsvColumnType,
  policy: 'error' | 'nan',
  missingSet: Set<string>,
  fixed: string[] | undefined,
  table: CsvTable,
): CsvColumn {
  const rows = recs.length;
  const where = (row: number) => `line ${recs[row]!.line} (data row ${row}), column ${JSON.stringify(name)}`;
  const onMissing = (row: number): void => {
    if (policy === 'error' || type === 'int32') {
      throw new FormatError(op, `missing value at ${where(row)}${type === 'int32' && policy === 'nan' ? ': an int32 column cannot hold a missing value (use float32)' : ''}`);
    }
    table.missing.push({ row, line: recs[row]!.line, column: name });
  };
  switch (type) {
    case 'string':
      return { type, values: recs.map((r) => r.fields[c]!) };
    case 'float32':
    case 'int32': {
      const values = type === 'float32' ? new Float32Array(rows) : new Int32Array(rows);
      for (let row = 0; row < rows; row++) {
        const s = recs[row]!.fields[c]!;
        if (missingSet.has(s.trim())) {
          onMissing(row);
          values[row] = NaN;
          continue;
        }
        const v = parseNumber(s);
        if (v === undefined) throw new FormatError(op, `${JSON.stringify(s.length > 40 ? `${s.slice(0, 40)}…` : s)} at ${where(row)} is not a number`);
        if (type === 'int32' && !(Number.isInteger(v) && v >= -2147483648 && v <= 2147483647)) {
          throw new FormatError(op, `${s.trim()} at ${where(row)} is not an int32 integer`);
        }
        values[row] = v;
      }
      return type === 'float32' ? { type, values: values as Float32Array } : { type, values: values as Int32Array };
    }
    case 'category': {
      const values = new Int32Array(rows);
      let categories: string[];
      if (fixed !== undefined) {
        if (!Array.isArray(fixed)) throw new ArgumentError(op, `categories.${name} must be an array of strings`);
        categories = fixed.map(String);
      } else {
        const distinct = new Set<string>();
        for (const r of recs) {
          const s = r.fields[c]!;
          if (!missingSet.has(s.trim())) distinct.add(s);
        }
        categories = [...distinct].sort(compareCategories);
      }
      const ids = new Map(categories.map((v, i) => [v, i]));
      for (let row = 0; row < rows; row++) {
        const s = recs[row]!.fields[c]!;
        const id = ids.get(s);
        if (id !== undefined) values[row] = id;
        else if (missingSet.has(s.trim())) {
          onMissing(row);
          values[row] = -1;
        } else throw new FormatError(op, `${JSON.stringify(s)} at ${where(row)} is not one of the given categories`);
      }
      return { type, values, categories };
    }
  }
}

/** Numbers in numeric order, then text in code-point order. */
function compareCategories(a: string, b: string): number {
  const x = parseNumber(a);
  const y = parseNumber(b);
  if (x !== undefined && y !== undefined && x !== y) return x - y;
  if (x !== undefined && y === undefined) return -1;
  if (x === undefined && y !== undefined) return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Loads tabular data from CSV text, a file path (a string without a newline), a `file:` URL
 * or bytes (gzip-compressed `.gz` files and bytes are decompressed), into typed columns
 * and tensors: `features` (float32 `[rows, k]`, every loaded column except the label and
 * string columns, category columns as their ids) and `labels`. Quoted fields may hold
 * delimiters, `""` and newlines. Missing values and malformed numbers raise a FormatError
 * naming the line and column (or, with `missing: 'nan'`, become NaN and are listed).
 * @example
 * // breast_cancer.csv: a first line "569,30,malignant,benign", then 30 features and the class
 * const data = await loadCsv('datasets/breast_cancer.csv', { header: false, skipRows: 1, label: '30' });
 * data.features.shape // [569, 30]
 * data.labels!.dtype  // 'int32'
 */
export async function loadCsv(source: string | URL | Uint8Array, opts: CsvOptions = {}): Promise<CsvData> {
  const op = 'loadCsv';
  const text = await readSource(op, source);
  const table = parseWith(op, text, opts);
  const label = opts.label;
  const featureNames = table.names.filter((n) => n !== label && table.columns[n]!.type !== 'string');
  const k = featureNames.length;
  const x = new Float32Array(table.rows * k);
  featureNames.forEach((name, j) => {
    const v = table.columns[name]!.values as Float32Array | Int32Array;
    for (let r = 0; r < table.rows; r++) x[r * k + j] = v[r]!;
  });
  let labels: Tensor | null = null;
  if (label !== undefined) {
    const col = table.columns[label]!;
    if (col.type === 'string') throw new ArgumentError(op, `label column ${JSON.stringify(label)} has type string; use 'category', 'int32' or 'float32'`);
    labels = tensor(col.values, [table.rows], col.type === 'float32' ? 'float32' : 'int32');
  }
  let features: Tensor;
  try {
    features = tensor(x, [table.rows, k], 'float32');
  } catch (e) {
    labels?.dispose();
    throw e;
  }
  return { ...table, features, labels, featureNames };
}

async function readSource(op: string, source: string | URL | Uint8Array): Promise<string> {
  if (typeof source === 'string' && /[\r\n]/.test(source)) return source;
  if (typeof source !== 'string' && !(source instanceof URL) && !(source instanceof Uint8Array)) {
    throw new ArgumentError(op, `expected CSV text, a path, a URL or bytes, got ${source === null ? 'null' : typeof source}`);
  }
  let bytes: Uint8Array;
  if (source instanceof Uint8Array) bytes = source;
  else {
    let fs: typeof import('node:fs/promises');
    try {
      fs = await import('node:fs/promises');
    } catch {
      throw new TesseraError(op, 'reading a path needs Node.js file access; pass the CSV text instead');
    }
    try {
      bytes = new Uint8Array(await fs.readFile(source));
    } catch (e) {
      const code = (e as { code?: string }).code;
      throw new TesseraError(
        op,
        `cannot read ${String(source)}${code ? ` (${code})` : ''}${typeof source === 'string' ? '; a string without a newline is read as a path (CSV text needs at least one line break)' : ''}`,
      );
    }
  }
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    const { gunzipSync } = await import('node:zlib');
    try {
      bytes = new Uint8Array(gunzipSync(bytes));
    } catch (e) {
      throw new FormatError(op, `${source instanceof Uint8Array ? 'the bytes' : String(source)} look gzip-compressed but do not decompress: ${(e as Error).message}`);
    }
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new FormatError(op, `${source instanceof Uint8Array ? 'the bytes are' : `${String(source)} is`} not valid UTF-8 text`);
  }
}
