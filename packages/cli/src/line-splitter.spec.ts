import { LineSplitter } from './line-splitter';

function splitAll(chunks: (string | Buffer)[], max?: number): string[] {
  const splitter = new LineSplitter(max);
  return [...chunks.flatMap((c) => splitter.push(c)), ...splitter.end()];
}

describe('LineSplitter', () => {
  const text = '[Node 5001] Started on 127.0.0.1:5001\r\n[Node 5001] héllo ✓\n\npartial';
  const expected = ['[Node 5001] Started on 127.0.0.1:5001', '[Node 5001] héllo ✓', '', 'partial'];

  it('gives whole lines from one chunk', () => {
    expect(splitAll([Buffer.from(text)])).toEqual(expected);
  });

  it('gives the same lines byte by byte, multi-byte characters included', () => {
    const bytes = Buffer.from(text);
    const chunks = Array.from(bytes, (_, i) => bytes.subarray(i, i + 1));
    expect(splitAll(chunks)).toEqual(expected);
  });

  it('holds a line back until it is complete', () => {
    const splitter = new LineSplitter();
    expect(splitter.push('[Coord')).toEqual([]);
    expect(splitter.push('inator] up\n[No')).toEqual(['[Coordinator] up']);
    expect(splitter.end()).toEqual(['[No']);
    expect(splitter.end()).toEqual([]);
  });

  it('passes an over-long line on in bounded pieces', () => {
    expect(splitAll(['abcdefghij', 'kl\n'], 4)).toEqual(['abcd', 'efgh', 'ijkl']);
  });
});
