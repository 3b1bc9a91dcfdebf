import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { ArgumentError, dispose, FormatError, TesseraError } from '@tessera/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Dataset, loadCsv, parseCsv, trainTestSplit } from '../src/index.js';
import { datasetsDir, expectNoLeak, useJs, values } from './setup.js';

beforeAll(() => {
  useJs();
});

const breastCancer = resolve(datasetsDir, 'breast_cancer.csv');

describe('parseCsv', () => {
  it('infers int32, float32 and string columns', () => {
    const t = parseCsv('id,x,name\n1,2.5,ann\n2,-3e2,bob\n');
    expect(t.names).toEqual(['id', 'x', 'name']);
    expect(t.rows).toBe(2);
    expect(t.columns.id).toEqual({ type: 'int32', values: new Int32Array([1, 2]) });
    expect(t.columns.x).toEqual({ type: 'float32', values: new Float32Array([2.5, -300]) });
    expect(t.columns.name).toEqual({ type: 'string', values: ['ann', 'bob'] });
    expect(t.missing).toEqual([]);
  });

  it('handles quoted fields: delimiters, escaped quotes, newlines, CRLF, BOM, blank lines', () => {
    const text = '\uFEFFname,quote,n\r\n"Smith, J.","He said ""hi""",1\r\n\r\n"multi\nline",plain,2\r\n"",x,3';
    const t = parseCsv(text);
    expect(t.columns.name!.values).toEqual(['Smith, J.', 'multi\nline', '']);
    expect(t.columns.quote!.values).toEqual(['He said "hi"', 'plain', 'x']);
    expect(t.columns.n!.values).toEqual(new Int32Array([1, 2, 3]));
  });

  it('applies declared column types and loads only the declared columns', () => {
    const t = parseCsv('a,b,c,d\n1,x,3,u\n2,y,4,v\n', { columns: { d: 'category', a: 'float32', c: 'int32' } });
    expect(t.names).toEqual(['a', 'c', 'd']);
    expect(t.columns.a!.type).toBe('float32');
    expect(t.columns.b).toBeUndefined();
    expect(t.columns.d).toEqual({ type: 'category', values: new Int32Array([0, 1]), categories: ['u', 'v'] });
  });

  it('maps categories to ids in sorted order and returns the mapping', () => {
    const t = parseCsv('color,size\nred,10\nblue,2\nred,1\ngreen,10\n', { columns: { color: 'category', size: 'category' } });
    expect(t.categories.color).toEqual(['blue', 'green', 'red']);
    expect(Array.from(t.columns.color!.values as Int32Array)).toEqual([2, 0, 2, 1]);
    expect(t.categories.size).toEqual(['1', '2', '10']); // numeric order for numbers
    const fixed = parseCsv('c\nb\na\n', { columns: { c: 'category' }, categories: { c: ['b', 'a', 'z'] } });
    expect(Array.from(fixed.columns.c!.values as Int32Array)).toEqual([0, 1]);
    expect(fixed.categories.c).toEqual(['b', 'a', 'z']);
    expect(() => parseCsv('c\nq\n', { columns: { c: 'category' }, categories: { c: ['a'] } })).toThrow(/"q" at line 2 \(data row 0\), column "c" is not one of the given categories/);
  });

  it('reports missing values with their line and column', () => {
    const text = 'a,b\n1,2\n3,\n,NA\n';
    expect(() => parseCsv(text)).toThrow(FormatError);
    expect(() => parseCsv(text)).toThrow(/missing value at line 3 \(data row 1\), column "b"/);
    const t = parseCsv(text, { missing: 'nan', columns: { a: 'float32', b: 'float32' } });
    expect(t.missing).toEqual([
      { row: 1, line: 3, column: 'b' },
      { row: 2, line: 4, column: 'a' },
      { row: 2, line: 4, column: 'b' },
    ]);
    expect(Array.from(t.columns.b!.values as Float32Array)).toEqual([2, NaN, NaN]);
    expect(() => parseCsv(text, { missing: 'nan', columns: { a: 'int32', b: 'float32' } })).toThrow(/line 4 .*column "a": an int32 column cannot hold a missing value/);
    const cat = parseCsv('k\nx\n?\n', { missing: 'nan', columns: { k: 'category' } });
    expect(Array.from(cat.columns.k!.values as Int32Array)).toEqual([0, -1]);
    expect(parseCsv('a\n-\n', { missingValues: ['-'], missing: 'nan' }).missing).toEqual([{ row: 0, line: 2, column: 'a' }]);
  });

  it('rejects malformed numbers, ragged rows, bad quotes and unknown columns', () => {
    expect(() => parseCsv('a\n1\nabc\n', { columns: { a: 'float32' } })).toThrow(/"abc" at line 3 \(data row 1\), column "a" is not a number/);
    expect(() => parseCsv('a\n1.5\n', { columns: { a: 'int32' } })).toThrow(/1.5 at line 2 .* is not an int32 integer/);
    expect(() => parseCsv('a\n3000000000\n', { columns: { a: 'int32' } })).toThrow(/not an int32 integer/);
    expect(() => parseCsv('a,b\n1,2\n3\n')).toThrow(/line 3 has 1 fields but the header has 2/);
    expect(() => parseCsv('a,b\n"1,2\n')).toThrow(/line 2: quoted field never closes/);
    expect(() => parseCsv('a,b\n"1"x,2\n')).toThrow(/line 2: unexpected "x" after a closing quote/);
    expect(() => parseCsv('a,a\n1,2\n')).toThrow(/column name "a" appears twice/);
    expect(() => parseCsv('a\n1\n', { columns: { b: 'float32' } })).toThrow(ArgumentError);
    expect(() => parseCsv('a\n1\n', { columns: { a: 'float64' as 'float32' } })).toThrow(/type "float64"/);
    expect(() => parseCsv('a\n1\n', { delimiter: ';;' })).toThrow(/one character/);
    expect(() => parseCsv('a\n1\n', { label: 'b' })).toThrow(/label column "b" is not in the data/);
    expect(() => parseCsv('')).toThrow(/no header/);
  });

  it('supports other delimiters, header: false with names, and skipRows', () => {
    const t = parseCsv('# comment line\n1;2\n3;4\n', { delimiter: ';', header: false, skipRows: 1 });
    expect(t.names).toEqual(['0', '1']);
    expect(t.columns['1']!.values).toEqual(new Int32Array([2, 4]));
    const named = parseCsv('1\t2\n', { delimiter: '\t', header: false, names: ['p', 'q'] });
    expect(named.columns.q!.values).toEqual(new Int32Array([2]));
    expect(() => parseCsv('1,2\n', { header: false, names: ['p'] })).toThrow(/names has 1 entries but the rows have 2/);
  });
});

describe('loadCsv', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'tessera-csv-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('loads breast_cancer.csv: 569 rows, 30 float32 features, int32 labels', async () => {
    await expectNoLeak(async () => {
      const data = await loadCsv(breastCancer, { header: false, skipRows: 1, label: '30' });
      expect(data.rows).toBe(569);
      expect(data.features.shape).toEqual([569, 30]);
      expect(data.features.dtype).toBe('float32');
      expect(data.featureNames).toHaveLength(30);
      expect(data.labels!.shape).toEqual([569]);
      expect(data.labels!.dtype).toBe('int32');
      const y = values(data.labels!);
      expect(y.filter((v) => v === 0)).toHaveLength(212);
      expect(y.filter((v) => v === 1)).toHaveLength(357);
      const x = data.features.dataSync();
      expect(x[0]).toBeCloseTo(17.99, 5); // mean radius of the first row
      expect(x[20]).toBeCloseTo(25.38, 5); // worst radius of the first row
      expect(x[30 + 1]).toBeCloseTo(17.77, 5);
      dispose([data.features, data.labels]);
    });
  });

  it('names the problem when breast_cancer.csv is read with its first line as a header', async () => {
    await expect(loadCsv(breastCancer)).rejects.toThrow(/line 2 has 31 fields but the header has 4 \(delimiter ","; skipRows or header: false may help\)/);
  });

  it('feeds a train/test split and a batched dataset', async () => {
    const data = await loadCsv(breastCancer, { header: false, skipRows: 1, label: '30', columns: Object.fromEntries([...Array(31).keys()].map((i) => [String(i), i === 30 ? 'int32' : 'float32'])) });
    await expectNoLeak(async () => {
      const s = trainTestSplit(data.features, data.labels!, { testSize: 0.2, seed: 0 });
      expect(s.xTrain.shape).toEqual([455, 30]);
      expect(s.xTest.shape).toEqual([114, 30]);
      const batches = await Dataset.fromTensorSlices({ x: s.xTrain, y: s.yTrain }).batch(100).toArray();
      expect(batches.map((b) => b.x.shape[0])).toEqual([100, 100, 100, 100, 55]);
      dispose([s, batches]);
    });
    dispose([data.features, data.labels]);
  });

  it('reads text, paths, file URLs, bytes and gzip files alike', async () => {
    const text = 'x,y,label\n1,2,cat\n3,4,dog\n5,6,cat\n';
    const file = join(tmp, 't.csv');
    writeFileSync(file, text);
    writeFileSync(`${file}.gz`, gzipSync(text));
    for (const src of [text, file, pathToFileURL(file), new TextEncoder().encode(text), `${file}.gz`]) {
      const d = await loadCsv(src, { label: 'label' });
      expect(d.featureNames).toEqual(['x', 'y']);
      expect(d.features.arraySync()).toEqual([[1, 2], [3, 4], [5, 6]]);
      expect(values(d.labels!)).toEqual([0, 1, 0]); // an inferred string label becomes a category
      expect(d.categories.label).toEqual(['cat', 'dog']);
      dispose([d.features, d.labels]);
    }
  });

  it('loads the gzip-compressed digits set', async () => {
    const d = await loadCsv(resolve(datasetsDir, 'digits.csv.gz'), { header: false, label: '64' });
    expect(d.features.shape).toEqual([1797, 64]);
    expect(d.labels!.dtype).toBe('int32');
    expect(new Set(values(d.labels!))).toEqual(new Set([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]));
    dispose([d.features, d.labels]);
  });

  it('keeps string columns out of the features and float labels as float32', async () => {
    const d = await loadCsv('name,a,c,price\nx,1,red,2.5\ny,2,blue,3\n', { label: 'price', columns: { name: 'string', a: 'float32', c: 'category', price: 'float32' } });
    expect(d.featureNames).toEqual(['a', 'c']);
    expect(d.features.arraySync()).toEqual([[1, 1], [2, 0]]);
    expect(d.labels!.dtype).toBe('float32');
    expect(d.columns.name!.values).toEqual(['x', 'y']);
    dispose([d.features, d.labels]);
    expect(d.labels!.isDisposed).toBe(true);
    await expect(loadCsv('s,t\na,1\n', { label: 's', columns: { s: 'string', t: 'int32' } })).rejects.toThrow(/label column "s" has type string/);
  });

  it('explains a missing file (a string without a newline is a path)', async () => {
    await expect(loadCsv(join(tmp, 'nope.csv'))).rejects.toThrow(TesseraError);
    await expect(loadCsv('a,b')).rejects.toThrow(/cannot read a,b \(ENOENT\); a string without a newline is read as a path/);
    await expect(loadCsv(new Uint8Array([0x1f, 0x8b, 1, 2]))).rejects.toThrow(/gzip-compressed but do not decompress/);
    await expect(loadCsv(new Uint8Array([0x61, 0xff, 0x0a]))).rejects.toThrow(/not valid UTF-8/);
  });
});
