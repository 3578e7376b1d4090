import { describe, expect, it } from 'vitest';
import type { CopyOptions } from '../sql/wrappedStatement.js';
import { csvQuoter, textEscaper } from './copyOut.js';

const CSV: CopyOptions = { format: 'csv', delimiter: ',', null: '', header: false, quote: '"', escape: '"', forceQuote: [] };

describe("COPY's value formats", () => {
  it('escapes text as CopyAttributeOutText: backslash, the delimiter, \\b \\f \\n \\r \\t \\v; other control characters as they are', () => {
    const tab = textEscaper('\t');
    expect(tab('plain')).toBe('plain');
    expect(tab('a\tb\nc\rd\\e\bf\fg\vh')).toBe('a\\tb\\nc\\rd\\\\e\\bf\\fg\\vh');
    expect(tab('x\x01y')).toBe('x\x01y');
    expect(textEscaper(',')('a,b\tc')).toBe('a\\,b\\tc');
    expect(textEscaper('|')('a|b')).toBe('a\\|b');
    expect(textEscaper(']')('a]b')).toBe('a\\]b');
    // A control character as the delimiter is escaped too.
    expect(textEscaper('\x01')('a\x01b')).toBe('a\\\x01b');
  });

  it('quotes CSV only when needed, doubling or escaping quotes inside', () => {
    const q = csvQuoter(CSV, false);
    expect(q('plain', false)).toBe('plain');
    expect(q('', false)).toBe('""'); // equals the NULL string
    expect(q('a,b', false)).toBe('"a,b"');
    expect(q('say "hi"', false)).toBe('"say ""hi"""');
    expect(q('line\nbreak', false)).toBe('"line\nbreak"');
    expect(q('cr\r', false)).toBe('"cr\r"');
    expect(q('\\.', false)).toBe('\\.');
    expect(q('x', true)).toBe('"x"');
    expect(csvQuoter(CSV, true)('\\.', false)).toBe('"\\."'); // alone on its line: not the end-of-data marker
    const custom = csvQuoter({ ...CSV, delimiter: ';', quote: "'", escape: '\\', null: 'NULL' }, false);
    expect(custom("it's; \\ here", false)).toBe("'it\\'s; \\\\ here'");
    expect(custom('NULL', false)).toBe("'NULL'");
    expect(custom('a,b', false)).toBe('a,b');
  });
});
