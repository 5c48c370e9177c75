// The pure half of search (src/search/words.ts): a query's words, and highlights in code points.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { highlights, queryWords } from '../src/search/words.js';

test('queryWords: runs of letters and decimal digits, lower-cased; anything else separates', () => {
  assert.deepEqual(queryWords('hel WOR'), ['hel', 'wor']);
  assert.deepEqual(queryWords('  ПРИВ,мир!!42x_y '), ['прив', 'мир', '42x', 'y']);
  assert.deepEqual(queryWords('!!! ... ???'), []);
  assert.deepEqual(queryWords('½ ² x'), ['x'], 'numbers that are not decimal digits are no words');
  assert.deepEqual(queryWords('日本語 テスト'), ['日本語', 'テスト'], 'scripts without case are words too');
});

test('highlights: every content word that a query word begins, in order, code point offsets, end exclusive', () => {
  assert.deepEqual(highlights('Hello, world!', ['hel', 'wor']), [[0, 5], [7, 12]]);
  assert.deepEqual(highlights('Hello, world!', ['ello']), []);
  assert.deepEqual(highlights('😀😀 Привет привет', ['прив']), [[3, 9], [10, 16]]);
  assert.deepEqual(highlights('a𝒳b ab', ['a']), [[0, 3], [4, 6]], '𝒳 (two UTF-16 units) is one code point of the word');
  assert.deepEqual(highlights('', ['a']), []);
  assert.deepEqual(highlights('STRASSE straße', ['stra']), [[0, 7], [8, 14]]);
});
