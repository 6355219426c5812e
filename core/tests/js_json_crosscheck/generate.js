#!/usr/bin/env node
// Generates cases.json: inputs for the JSON cross-check of
// core/src/wire/json.rs against V8 (Node 20).
//
// Each line of the output is [hex, result]: `hex` is the input bytes,
// `result` is JSON.stringify(JSON.parse(Buffer.from(hex, 'hex').toString()))
// or null if JSON.parse throws. The unit test `crosscheck_against_node` in
// json.rs parses this file with our own parser and compares every entry.
//
// Deterministic (fixed-seed PRNG): re-running produces the same file.
// Usage: node core/tests/js_json_crosscheck/generate.js

'use strict';
const fs = require('fs');
const path = require('path');

// --- deterministic PRNG (xorshift32) --------------------------------------
let seed = 0x9e3779b9;
function rnd() {
  seed ^= seed << 13; seed >>>= 0;
  seed ^= seed >>> 17;
  seed ^= seed << 5; seed >>>= 0;
  return seed;
}
const pick = (a) => a[rnd() % a.length];
const chance = (p) => (rnd() % 1000) < p * 1000;

const cases = [];
const seen = new Set();
function add(buf) {
  if (typeof buf === 'string') buf = Buffer.from(buf, 'utf8');
  const hex = buf.toString('hex');
  if (seen.has(hex)) return;
  seen.add(hex);
  let out = null;
  try {
    out = JSON.stringify(JSON.parse(buf.toString()));
  } catch (e) {
    out = null;
  }
  cases.push([hex, out]);
}
const h = (hex) => Buffer.from(hex.replace(/\s+/g, ''), 'hex');
const cat = (...parts) => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : p)));
// A JSON string literal around raw bytes.
const strBytes = (hex) => cat('"', h(hex), '"');

// --- hand-written edge cases ------------------------------------------------
const literal = [
  '', ' ', '\n', 'null', 'true', 'false', 'nul', 'tru', 'fals', 'truee', 'True', 'NULL', 'undefined',
  'NaN', 'Infinity', '-Infinity', 'null null', 'nullx', ' null ', '\t\n\r null\t\n\r ',
  '\fnull', '\vnull', '\u00a0null', 'null\u2028', '\ufeffnull', 'null\u0000',
];
const numbers = [
  '0', '-0', '-', '+1', '01', '00', '-01', '1.', '.1', '1.0', '1.00', '1e', '1e+', '1e-', '1E5', '1e5',
  '1e-7', '1e-6', '1e21', '1e20', '123456789012345680000', '123456789012345678901',
  '0.1', '0.30000000000000004', '5e-324', '2e-324', '3e-324', '2.4703282292062328e-324',
  '1e400', '-1e400', '1e308', '1.7976931348623157e308', '1.7976931348623158e308', '1.7976931348623159e308',
  '9007199254740993', '9007199254740992', '-9007199254740993', '18446744073709551616',
  '-0.0', '-0e0', '0e0', '0E+0', '1e-0', '1.5e+300', '1.5E-300', '100', '1e2', '123.456e-2',
  '0.' + '1'.repeat(400), '1' + '0'.repeat(400), '-' + '9'.repeat(30),
  '0.000001', '0.0000001', '1234567.8', '4294967295', '4294967296', '2147483648', '-2147483649',
  '1e+21', '999999999999999999999', '1e-324', '0x10', '1_000', '1 000', '--1', '-+1', '1e++1', '1ee1',
  '1.e1', '1.5.5', '[-0]', '[1e21,1e-7,0.1]', '123456789012345', '1234567890123456', '-123456789012345',
  '0.1e1', '10e-1', '2.5e-3', '1e-5', '1.0000000000000002', '4.9406564584124654e-324',
  '1e99999999999999999999', '-1e99999999999999999999', '0e99999999999999999999', '1e-99999999999999999999',
  '0.' + '0'.repeat(400) + '1e400', '1' + '0'.repeat(400) + 'e-400', '2.2250738585072011e-308',
  '2.2250738585072014e-308', '9.999999999999999e22', '1e23', '8.41e21', '-1.5e-7', '0.000001234',
];
const strings = [
  '""', '"a"', '"abc', '"\\"', '"\\u0041"', '"\\u004"', '"\\u00"', '"\\uZZZZ"', '"\\u00411"',
  '"\\ud83d\\ude00"', '"\\uD83D\\uDE00"', '"\\ud83d"', '"\\ude00"', '"\\ude00\\ud83d"', '"\\ud83dx"',
  '"\\ud83d\\u0041"', '"\\ud83d\\ud83d\\ude00"', '"\\uDEAD"', '"\\udbff\\udfff"', '"\\ud800\\udc00"',
  '"\\ud800\\ud800"', '"a\\ud800b\\udc00c"', '"\\ud83d\\\\ude00"', '"\\ud83d\\ude0"',
  '"\\x41"', '"\\\'"', '"\\/"', '"/"', '"\\b\\f\\n\\r\\t"', '"\\a"', '"\\0"', '"\\U0041"', '"\\"',
  '"\u0001"', '"\t"', '"\n"', '"\u001f"', '"\u007f"', '"\u0080"', '"\u2028\u2029"', '"😀"',
  '"\\u001f"', '"\\u0000"', '"\\u007f"', '"\\u2028"', '"\\u00e9"', '"é"', '"\\ufeff"', '"\ufeff"',
  '"\\uFFFD"', '"\\uffff"', '"\\ufffe"', "'a'", '"a"b"', '"a" "b"', '"\\\\"', '"\\\\\\""',
  '"' + 'x'.repeat(100) + '"', '"' + 'é'.repeat(50) + '"', '"0123456789abcdef\\n0123456789abcdef"',
  '"\u0000"', '"a\u0019b"', '"\\u0008\\u000C"', '"<\\/script>"',
];
for (const s of [...literal, ...numbers, ...strings]) add(s);

// Invalid / edge UTF-8 inside strings and elsewhere.
const utf8 = [
  'ff', 'fe', 'c0 80', 'c1 bf', 'c2', 'c2 41', 'c2 80', 'df bf', 'e0 80 80', 'e0 9f bf', 'e0 a0', 'e0 a0 80',
  'ed a0 80', 'ed bf bf', 'ed 9f bf', 'ed a0 80 ed b0 80', 'ef bf bd', 'ef bf bf', 'ef bb bf',
  'f0 80 80 80', 'f0 8f bf bf', 'f0 90 80 80', 'f0 90 80', 'f0 90', 'f4 8f bf bf', 'f4 90 80 80',
  'f5 80 80 80', 'f8 88 80 80 80', 'fc 84 80 80 80 80', '80', 'bf', '80 80', 'e1 80', 'f1 80 80',
  'f1 80 80 41', 'e1 80 41', 'c3', 'e2 82', 'e2 82 ac', 'e2 28 a1', 'f0 28 8c bc', 'f0 90 28 bc',
  'c3 28', 'a0 a1', 'e1 5c 6e', 'c2 5c 22', 'f1 22', 'e1 80 5c 75 30 30 34 31',
];
for (const u of utf8) {
  add(strBytes(u));
  add(cat('"a', h(u), 'b"'));
  add(cat('{"', h(u), '":1}'));
  add(cat('[', h(u), ']'));
  add(h(u));
}
add(cat(h('c3'), '"')); // truncated lead right before the closing quote
add(cat('"', h('e1 80'), '"'));
add(cat('"', h('e1'), '"'));
add(cat('"', h('f0 90 80'), '"'));
add(cat(h('ef bb bf'), '{}'));
add(cat(h('ef bb bf'), '1'));
add(cat(h('ef bb bf'), '"x"'));
add(cat('{"a":"', h('ff'), '","b":"', h('c3 a9'), '"}'));

// Objects: order, duplicates, index keys, __proto__.
const objects = [
  '{}', '{ }', '{"a":1}', '{"a":1,}', '{,}', '{"a"}', '{"a":}', '{a:1}', "{'a':1}", '{"a" 1}', '{"a":1 "b":2}',
  '{"b":1,"a":2}', '{"a":1,"b":2,"a":3}', '{"a":1,"a":2,"a":3}', '{"1":1,"0":0,"a":2,"10":3,"2":4}',
  '{"01":1,"1":2}', '{"4294967294":1,"4294967295":2,"4294967296":3,"0":0}', '{"-0":1,"0":2,"-1":3}',
  '{"__proto__":1}', '{"__proto__":{"x":1}}', '{"__proto__":[],"a":1}', '{"constructor":1,"toString":2}',
  '{"\\u0030":1,"a":2,"0":3}', '{"\\ud83d":1}', '{"\\ud83d\\ude00":1}', '{"1.0":1,"1":2}', '{" 1":1,"1 ":2}',
  '{"1e1":1,"10":2}', '{"":1}', '{"":1,"":2}', '{"1":1,"0":2,"1":3}', '{"b":1,"1":2,"b":3,"0":4}',
  '{"\\uFFFD":1}', '{"a":{"b":{"c":{}}}}', '{"a":[{"b":null}]}', '{"hasOwnProperty":1}',
  '{"00":1,"0":2}', '{"9":1,"8":2,"10":3,"100":4,"99":5}', '{"4294967294":1,"4294967293":2}',
  '{"2147483648":1,"2147483647":2}', '{"1":{"0":1,"b":2,"a":3}}', '{"a":1}}', '{{}}', '{"a":1]',
  '{"x":1,"__proto__":2,"y":3,"__proto__":4}', '{"length":1}', '{"0":1,"length":2}',
  '{"\\u0061":1,"a":2}', '{"a\\u0000b":1}', '{"A":1,"a":2}',
];
for (const s of objects) add(s);
add(cat('{"', h('ff'), '":1,"', h('fe'), '":2}')); // both keys decode to U+FFFD
add(cat('{"\\ufffd":1,"', h('ff'), '":2}'));
add(cat('{"', h('ed a0 80'), '":1,"\\ufffd\\ufffd\\ufffd":2}'));

// Bigger objects exercise the sort-based duplicate removal.
function bigObject(n, dupEvery, indexEvery) {
  const parts = [];
  for (let i = 0; i < n; i++) {
    let k;
    if (indexEvery && i % indexEvery === 0) k = String((n - i) * 3);
    else if (dupEvery && i % dupEvery === 0) k = 'k' + (i % 7);
    else k = 'k' + i;
    parts.push(JSON.stringify(k) + ':' + i);
  }
  return '{' + parts.join(',') + '}';
}
add(bigObject(20, 3, 0));
add(bigObject(30, 2, 5));
add(bigObject(40, 4, 3));
add(bigObject(12, 1, 0));
add(bigObject(60, 5, 7));

// Arrays, nesting, trailing data.
const arrays = [
  '[]', '[ ]', '[1,]', '[,1]', '[,]', '[1 2]', '[1,,2]', '[[[]]]', '[1,[2,[3]]]', ' [ 1 , 2 ] ', '[', ']', '[[]',
  '[]]', '[1}', '{]', '[null,true,false,"x",1.5,{}]', '1 2', '{}x', '{} ', '{}\n', '[]]', 'null\u0000', '""""',
  '[] []', '0 ', ' 0', '[0]0', '"a"x', '1,', '[1]\t\r\n',
];
for (const s of arrays) add(s);
add('['.repeat(500) + ']'.repeat(500));
add('['.repeat(300) + '{"a":'.repeat(200) + '1' + '}'.repeat(200) + ']'.repeat(300));
add('['.repeat(500) + ']'.repeat(499));
add('{"a":'.repeat(100) + 'null' + '}'.repeat(100));

// Realistic packet messages.
const peer = 'a'.repeat(64);
const messages = [
  { requesterPeerId: peer, cacheSummaryHash: 'b'.repeat(40), natType: 31, uptime: 12345.678, isConnection: true },
  { requesterPeerId: peer, responderPeerId: 'c'.repeat(64), port: 8080, address: '192.168.1.2', natType: 7, pingId: 'abcdef012345' },
  { requesterPeerId: peer, natType: null, timestamp: 1700000000123 },
  { rendezvousAddress: '10.0.0.1', rendezvousPort: 9999, requesterPeerId: peer, natType: 5, address: '1.2.3.4', port: 1, key: 'k' },
  { clusterId: 'xyz', subclusterId: '\u2028/\\"\u0001', message: [1, 'two', { three: 3 }], 0: 'zero' },
];
for (const m of messages) add(JSON.stringify(m));

// --- random JSON values ------------------------------------------------------
const keyPool = ['a', 'b', 'c', '0', '1', '2', '10', '01', '-1', '4294967294', '4294967295', '__proto__', '', 'é', '\u2028',
  'requesterPeerId', 'natType', 'port', 'x y', '1.5', '😀'];
function randString() {
  const n = rnd() % 8;
  let s = '';
  for (let i = 0; i < n; i++) {
    const r = rnd() % 20;
    if (r < 8) s += String.fromCharCode(0x61 + (rnd() % 26));
    else if (r < 10) s += String.fromCharCode(rnd() % 0x20);
    else if (r < 12) s += pick(['"', '\\', '/', '\u007f', '\u2028', '\u2029']);
    else if (r < 14) s += String.fromCharCode(0xd800 + (rnd() % 0x800)); // lone or accidental pair
    else if (r < 16) s += pick(['é', '€', '😀', '\ufeff', '\ufffd', '中']);
    else s += String.fromCharCode(0x20 + (rnd() % 0x60));
  }
  return s;
}
function randNumber() {
  const r = rnd() % 10;
  if (r === 0) return pick([0, -0, 1e21, 1e-7, 0.1 + 0.2, 123456789012345680000, 5e-324, 1.7976931348623157e308, 2 ** 53 + 2]);
  if (r < 4) return (rnd() % 2000) - 1000;
  if (r < 6) return (rnd() / 0xffffffff) * Math.pow(10, (rnd() % 60) - 30);
  if (r < 8) return -(rnd() % 100000) / Math.pow(10, rnd() % 8);
  return rnd() * rnd();
}
function randValue(depth) {
  const r = rnd() % (depth > 3 ? 6 : 8);
  switch (r) {
    case 0: return null;
    case 1: return chance(0.5);
    case 2: case 3: return randNumber();
    case 4: case 5: return randString();
    case 6: {
      const a = [];
      const n = rnd() % 5;
      for (let i = 0; i < n; i++) a.push(randValue(depth + 1));
      return a;
    }
    default: {
      // Build the text by hand to get duplicate keys in.
      return { __raw: true, members: Array.from({ length: rnd() % 6 }, () => [chance(0.7) ? pick(keyPool) : randString(), randValue(depth + 1)]) };
    }
  }
}
// Serialize with optional whitespace, raw (possibly duplicate) members, and
// sometimes escaping characters that JSON.stringify would leave raw.
function ser(v) {
  const ws = () => (chance(0.15) ? pick([' ', '\n', '\t', '\r', '  ']) : '');
  if (v && v.__raw) {
    return '{' + ws() + v.members.map(([k, x]) => serStr(k) + ws() + ':' + ws() + ser(x)).join(ws() + ',' + ws()) + ws() + '}';
  }
  if (Array.isArray(v)) return '[' + ws() + v.map(ser).join(ws() + ',' + ws()) + ws() + ']';
  if (typeof v === 'string') return serStr(v);
  if (typeof v === 'number' && chance(0.2)) {
    // Alternative spellings of the same number.
    return pick([String(v), v.toExponential(), v.toPrecision(21), String(v).replace('e', 'E')]);
  }
  return JSON.stringify(v);
}
function serStr(s) {
  let out = JSON.stringify(s);
  if (chance(0.3)) {
    // Escape everything non-ASCII as \uXXXX (upper or lower case).
    out = out.replace(/[\u0080-\uffff]/g, (c) => {
      const x = c.charCodeAt(0).toString(16).padStart(4, '0');
      return '\\u' + (chance(0.5) ? x.toUpperCase() : x);
    });
  }
  return out;
}

const valid = [];
for (let i = 0; i < 600; i++) {
  const text = ser(randValue(0));
  valid.push(text);
  add(text);
}

// --- random mutations --------------------------------------------------------
const interesting = [0x22, 0x5c, 0x7b, 0x7d, 0x5b, 0x5d, 0x2c, 0x3a, 0x30, 0x31, 0x39, 0x2d, 0x2b, 0x2e, 0x65, 0x45,
  0x20, 0x09, 0x0a, 0x0d, 0x0c, 0x00, 0x1f, 0x75, 0x6e, 0x74, 0x66, 0x80, 0xbf, 0xc0, 0xc3, 0xe0, 0xed, 0xa0, 0xef,
  0xf0, 0xf4, 0xf5, 0xff];
const corpus = valid.concat(objects, arrays, messages.map((m) => JSON.stringify(m)));
function mutate(buf) {
  const b = Array.from(buf);
  const n = 1 + (rnd() % 3);
  for (let k = 0; k < n; k++) {
    const op = rnd() % 6;
    const i = b.length ? rnd() % b.length : 0;
    if (op === 0 && b.length) b[i] = pick(interesting);
    else if (op === 1) b.splice(i, 0, pick(interesting));
    else if (op === 2 && b.length) b.splice(i, 1);
    else if (op === 3 && b.length) b.splice(i, 0, ...b.slice(i, i + 1 + (rnd() % 6)));
    else if (op === 4 && b.length) b.length = i;
    else if (b.length) b[i] ^= 1 << (rnd() % 8);
  }
  return Buffer.from(b);
}
let guard = 0;
while (cases.length < 2200 && guard++ < 100000) {
  add(mutate(Buffer.from(pick(corpus), 'utf8')));
}
// A few fully random byte strings.
for (let i = 0; i < 60; i++) {
  const n = 1 + (rnd() % 12);
  add(Buffer.from(Array.from({ length: n }, () => (chance(0.5) ? pick(interesting) : rnd() & 0xff))));
}

const text = '[\n' + cases.map((c) => JSON.stringify(c)).join(',\n') + '\n]\n';
const outPath = path.join(__dirname, 'cases.json');
fs.writeFileSync(outPath, text);
const ok = cases.filter((c) => c[1] !== null).length;
console.log(`${cases.length} cases (${ok} accepted, ${cases.length - ok} rejected), ${text.length} bytes -> ${outPath}`);
