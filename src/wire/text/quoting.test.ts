import { describe, expect, it } from 'vitest';
import { quoteArrayElement, quoteRecordField } from './quoting.js';

describe('quoting', () => {
  it('quotes array elements as array_out does', () => {
    expect(quoteArrayElement('plain')).toBe('plain');
    expect(quoteArrayElement('')).toBe('""');
    expect(quoteArrayElement('NULL')).toBe('"NULL"');
    expect(quoteArrayElement('nUlL')).toBe('"nUlL"');
    expect(quoteArrayElement('NULLS')).toBe('NULLS');
    expect(quoteArrayElement('a b')).toBe('"a b"');
    expect(quoteArrayElement('a,b')).toBe('"a,b"');
    expect(quoteArrayElement('{x}')).toBe('"{x}"');
    expect(quoteArrayElement('say "hi"')).toBe('"say \\"hi\\""');
    expect(quoteArrayElement('back\\slash')).toBe('"back\\\\slash"');
    expect(quoteArrayElement('tab\t')).toBe('"tab\t"');
    expect(quoteArrayElement('(1,2)')).toBe('"(1,2)"');
    expect(quoteArrayElement('(x)')).toBe('(x)');
    expect(quoteArrayElement('é\u00a0')).toBe('é\u00a0'); // only ASCII white space counts
  });

  it('quotes record fields as record_out does', () => {
    expect(quoteRecordField('abc')).toBe('abc');
    expect(quoteRecordField('')).toBe('""');
    expect(quoteRecordField('NULL')).toBe('NULL');
    expect(quoteRecordField('a b')).toBe('"a b"');
    expect(quoteRecordField('(p)')).toBe('"(p)"');
    expect(quoteRecordField('q"b')).toBe('"q""b"');
    expect(quoteRecordField('b\\s')).toBe('"b\\\\s"');
    expect(quoteRecordField('{1,2}')).toBe('"{1,2}"');
    expect(quoteRecordField('{x}')).toBe('{x}');
  });
});
