import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GLOB_MAX_ALTERNATIVES, GlobPattern, GlobSyntaxError } from '../../src/file-inputs/glob-pattern.js';

function check(pattern: string, matching: string[], other: string[]): void {
  const glob = GlobPattern.parse(pattern);
  for (const name of matching) assert.ok(glob.matches(name), `${pattern} should match ${name}`);
  for (const name of other) assert.ok(!glob.matches(name), `${pattern} should not match ${name}`);
}

describe('GlobPattern', () => {
  it('matches names without wildcards literally', () => {
    const glob = GlobPattern.parse('logs/a.txt');
    assert.equal(glob.isGlob, false);
    check('logs/a.txt', ['logs/a.txt'], ['logs/b.txt', 'logs/a.txt/x', 'a.txt']);
    check('a+(b).txt', ['a+(b).txt'], ['ab.txt']);
  });

  it('keeps * and ? within a segment', () => {
    check('*.txt', ['a.txt', 'b.c.txt', 'x y é.txt'], ['a.csv', 'd/a.txt', '.hidden.txt']);
    check('data/*', ['data/a', 'data/b.txt'], ['data', 'data/x/y', 'other/a']);
    check('a?c', ['abc', 'aéc'], ['ac', 'abbc', 'a/c']);
    check('a**b', ['ab', 'axyb'], ['a/b']);
  });

  it('lets ** stand for any number of segments, none included', () => {
    check('logs/**/*.txt', ['logs/a.txt', 'logs/2026/a.txt', 'logs/2026/11/a.txt'], ['a.txt', 'logs/a.csv', 'logs/.old/a.txt']);
    check('**', ['a', 'a/b/c'], ['.a', 'a/.b/c']);
    check('**/x', ['x', 'a/x', 'a/b/x'], ['a/y']);
    check('a/**', ['a/b', 'a/b/c'], ['b/a']);
  });

  it('matches sets, ranges and their negations', () => {
    check('[abc].txt', ['a.txt', 'c.txt'], ['d.txt', 'ab.txt']);
    check('[a-c][0-9]', ['a0', 'c9'], ['d0', 'aa']);
    check('[!a-c]x', ['dx', 'éx'], ['ax', 'x']);
    check('[^a]x', ['bx'], ['ax']);
    check('[]a]', [']', 'a'], ['b']);
    check('[.]*', [], ['.a']);
    check('[😀-😂].txt', ['😁.txt'], ['😃.txt']);
  });

  it('expands alternatives, nested ones too', () => {
    check('{a,b}.txt', ['a.txt', 'b.txt'], ['c.txt', '{a,b}.txt']);
    check('x{a,b{c,d}}', ['xa', 'xbc', 'xbd'], ['xb']);
    check('{logs,data}/**/*.{txt,csv}', ['logs/a.txt', 'data/x/b.csv'], ['other/a.txt', 'logs/a.json']);
    check('{x}.txt', ['{x}.txt'], ['x.txt']);
  });

  it('keeps groups within a folder as alternations, however many they stand for', () => {
    const pattern = `logs/*${'{a,b}'.repeat(12)}*.txt`; // 4,096 combinations
    check(pattern, [`logs/x${'ab'.repeat(6)}y.txt`], [`logs/x${'c'.repeat(12)}.txt`]);
    check('file[{,}].txt', ['file{.txt', 'file,.txt'], ['file.txt']);
    check('{a,b[,]c}', ['a', 'b,c'], ['b']);
    check('x/{a,b/c}', ['x/a', 'x/b/c'], ['x/b']);
  });

  it('takes a character beyond the BMP as one character', () => {
    check('emo/😀?.txt', ['emo/😀x.txt', 'emo/😀😁.txt'], ['emo/😀.txt']);
    check('emo/*😀*', ['emo/a😀b', 'emo/😀'], ['emo/abc']);
    check('{😀,😁}.txt', ['😀.txt', '😁.txt'], ['😂.txt']);
  });

  it('matches hidden segments only when the pattern names their dot', () => {
    check('.config/*', ['.config/a'], ['config/a', '.config/.b']);
    check('.*', ['.a', '.b.c'], ['a']);
    check('{.a,b}/*', ['.a/x', 'b/x'], []);
  });

  it('finds where a walk starts and how deep it goes', () => {
    const shape = (pattern: string) => {
      const glob = GlobPattern.parse(pattern);
      return [glob.base, glob.depth];
    };
    assert.deepEqual(shape('logs/2026/*.txt'), ['logs/2026', 1]);
    assert.deepEqual(shape('logs/*/a.txt'), ['logs', 2]);
    assert.deepEqual(shape('*.txt'), ['', 1]);
    assert.deepEqual(shape('logs/**/a.txt'), ['logs', Infinity]);
    assert.deepEqual(shape('{a,b}/c/*.txt'), ['', 3]);
    assert.deepEqual(shape('a/{b,c}/*.txt'), ['a', 2]);
  });

  it('rejects unclosed sets and braces, reversed ranges and too many alternatives', () => {
    assert.throws(() => GlobPattern.parse('a[bc'), GlobSyntaxError);
    assert.throws(() => GlobPattern.parse('a{b,c'), GlobSyntaxError);
    assert.throws(() => GlobPattern.parse('[z-a]'), /reversed/);
    // Groups that cross folders are expanded, 4^5 patterns here.
    const many = '{a/x,b/x,c/x,d/x}'.repeat(5);
    assert.ok(4 ** 5 > GLOB_MAX_ALTERNATIVES);
    assert.throws(() => GlobPattern.parse(many), /alternatives/);
  });

  it('matches patterns that make a backtracking matcher run for hours', () => {
    // Turned into JavaScript regular expressions, these take time exponential (the
    // first) or of high degree (the second) in the length of a name that fails.
    const name = `redos/${'a'.repeat(500)}`;
    assert.equal(GlobPattern.parse('redos/+(a*)b').matches(name), false);
    assert.equal(GlobPattern.parse(`redos/${'*a'.repeat(40)}b`).matches(name), false);
    assert.equal(GlobPattern.parse(`redos/${'*a'.repeat(40)}`).matches(name), true);
  });
});
