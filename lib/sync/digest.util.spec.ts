import { canonicalJson, sha256Digest } from './digest.util';

describe('digest', () => {
  it('ignores key order at every depth', () => {
    const a = { b: 1, a: { y: 2, x: [{ q: 1, p: 2 }] } } as any;
    const b = { a: { x: [{ p: 2, q: 1 }], y: 2 }, b: 1 } as any;
    expect(sha256Digest(a)).toBe(sha256Digest(b));
    expect(canonicalJson(a)).toBe('{"a":{"x":[{"p":2,"q":1}],"y":2},"b":1}');
  });

  it('treats undefined and missing keys alike but keeps null', () => {
    expect(sha256Digest({ a: 1, b: undefined } as any)).toBe(
      sha256Digest({ a: 1 }),
    );
    expect(sha256Digest({ a: 1, b: null })).not.toBe(sha256Digest({ a: 1 }));
  });

  it('keeps numbers and strings distinct', () => {
    expect(sha256Digest({ a: 1 })).not.toBe(sha256Digest({ a: '1' }));
    expect(sha256Digest({ a: true })).not.toBe(sha256Digest({ a: 'true' }));
  });

  it('is a 64-char hex SHA-256', () => {
    expect(sha256Digest({})).toBe(
      '44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a',
    );
  });
});
