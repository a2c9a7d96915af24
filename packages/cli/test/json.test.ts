import { describe, expect, it } from 'vitest';
import { toJson } from '../src/json.js';
import { parseSnap } from '../src/snap.js';

describe('toJson', () => {
  it('formats like JSON.stringify(x, null, 2) for plain values', () => {
    const samples: unknown[] = [
      null,
      true,
      0,
      -1.5,
      'a"b\\c\n\u0001é',
      [],
      {},
      [1, [2, []], { a: {} }],
      { metadataHex: null, hardState: { term: 1, vote: 2, commit: 3 }, entries: [], error: 'unexpected EOF' },
      { a: undefined, b: 1 },
    ];
    for (const s of samples) {
      expect(toJson(s as never)).toBe(JSON.stringify(s, null, 2));
      expect(toJson(s as never, '')).toBe(JSON.stringify(s));
    }
  });

  it('prints bigints exactly', () => {
    expect(toJson({ vote: 10351854194737052131n, max: 18446744073709551615n, zero: 0n })).toBe(
      '{\n  "vote": 10351854194737052131,\n  "max": 18446744073709551615,\n  "zero": 0\n}',
    );
  });

  it('escapes U+2028/U+2029 as Go does', () => {
    expect(toJson('\u2028\u2029')).toBe('"\\u2028\\u2029"');
  });
});

describe('parseSnap', () => {
  it('parses INDEX:TERM', () => {
    expect(parseSnap('0:0')).toEqual({ index: 0n, term: 0n });
    expect(parseSnap('390:4')).toEqual({ index: 390n, term: 4n });
    expect(parseSnap('18446744073709551615:1')).toEqual({ index: 18446744073709551615n, term: 1n });
  });
  it('rejects malformed values', () => {
    for (const s of ['', '1', '1:', ':1', 'a:1', '1:-1', '1:2:3', '1.5:2', '18446744073709551616:0', ' 1:2']) {
      expect(() => parseSnap(s), s).toThrow();
    }
  });
});
