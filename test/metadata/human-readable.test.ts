import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  confusableSkeleton,
  hasInvisibleCharacters,
  reservedNameKey,
} from '../../src/metadata/human-readable.js'

describe('issue 12 item 6: human-readable text (UTS #39)', () => {
  it('confusableSkeleton follows UTS #39 §4: strings that look alike share a skeleton', () => {
    assert.equal(confusableSkeleton('p\u0430yp\u0430l'), 'paypal') // Cyrillic а
    assert.equal(confusableSkeleton('\u211c\u{1d602}\u15af\u028f'), 'Ruby') // ℜ𝘂ᖯʏ
    assert.equal(confusableSkeleton('Michae1'), confusableSkeleton('Michael'))
    assert.equal(confusableSkeleton('rn'), confusableSkeleton('m'))
    assert.notEqual(confusableSkeleton('Acme'), confusableSkeleton('Acne'))
    // NFD on both sides: a precomposed and a decomposed é are one skeleton
    assert.equal(confusableSkeleton('caf\u00e9'), confusableSkeleton('cafe\u0301'))
  })

  it('reservedNameKey folds case, width, confusables, punctuation and diacritics', () => {
    const key = reservedNameKey('Acme Bank')
    for (const alike of [
      'ACME-bank',
      '\uff21\uff43\uff4d\uff45 Bank', // full-width
      'Acme B\u0430nk', // Cyrillic а
      '\u0391CME BANK', // Greek Alpha
      'Acrne Bank',
      'Acm\u00e9 Bank',
      'acme.bank!',
    ]) {
      assert.equal(reservedNameKey(alike), key, alike)
    }
    for (const other of [
      'Acme Banking',
      'Acne Bank',
      'Acme Bonk',
      '\u0410\u043f\u0442\u0435\u043a\u0430',
    ]) {
      assert.notEqual(reservedNameKey(other), key, other)
    }
    // I and l look alike in many fonts; the skeleton is taken before case folding to catch it
    assert.equal(reservedNameKey('AppIe'), reservedNameKey('Apple'))
  })

  it('hasInvisibleCharacters: bidi controls, zero-width, tags and separators, not emoji selectors', () => {
    for (const ch of [
      '\u202e',
      '\u2067',
      '\u200b',
      '\u200d',
      '\u2063',
      '\ufeff',
      '\u00ad',
      '\u{e0020}',
      '\u2028',
    ]) {
      assert.equal(hasInvisibleCharacters(`a${ch}b`), true, ch.codePointAt(0)!.toString(16))
    }
    for (const text of ['Acme', 'クライアント', 'שלום', '❤\ufe0f', '☃\ufe0e', 'e\u0301']) {
      assert.equal(hasInvisibleCharacters(text), false, text)
    }
  })
})
