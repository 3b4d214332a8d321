// unit.test.mjs - the dashboard's pure modules under Node (no browser):
// every label exists in English and Japanese (and is translated), the
// CIDR matching behind the lists page's "live traffic" column, and the
// reading of the stats answer.
import { dictionaries, errorText } from '../../web/src/i18n.js';
import { parseNet, contains, isValidNet } from '../../web/src/ip.js';

let passed = 0, failed = 0;
function expect(cond, desc, detail) {
	if (cond) { passed++; console.log(`ok   - ${desc}`); }
	else { failed++; console.log(`FAIL - ${desc}${detail !== undefined ? ': ' + detail : ''}`); }
}

// i18n: same keys, translated, placeholders kept
const { en, ja } = dictionaries;
const onlyEn = Object.keys(en).filter((k) => !(k in ja));
const onlyJa = Object.keys(ja).filter((k) => !(k in en));
expect(onlyEn.length === 0, 'every English label has a Japanese one', onlyEn.join(', '));
expect(onlyJa.length === 0, 'no Japanese label without an English one', onlyJa.join(', '));
const same = Object.keys(en).filter((k) => k in ja && ja[k] === en[k] && k !== 'app.name');
expect(same.length === 0, 'every Japanese label differs from the English one', same.join(', '));
const ph = (s) => (s.match(/\{\w+\}/g) || []).sort().join();
const badPh = Object.keys(en).filter((k) => k in ja && ph(en[k]) !== ph(ja[k]));
expect(badPh.length === 0, 'both languages use the same {placeholders}', badPh.join(', '));
const noKana = Object.keys(ja).filter((k) => k !== 'app.name' && !/[\u3040-\u30ff\u4e00-\u9fff]/.test(ja[k]));
expect(noKana.length === 0, 'every Japanese label contains Japanese script', noKana.join(', '));
for (const [k, v] of [['nav.bans', 'ブロック中のアドレス'], ['lists.allow', '許可リスト'], ['lists.deny', '拒否リスト'],
    ['ov.loginFailures', 'ログイン失敗'], ['acc.alerts', '乗っ取りの可能性']])
	expect(ja[k] === v, `ja ${k} is ${v}`, ja[k]);

// API failures: the status in the viewer's language, mailwardd's words kept
const nf = { status: 404, message: 'no ban for 192.0.2.1' };
expect(errorText(nf, 'ja') === 'エラー（見つかりません）: no ban for 192.0.2.1', 'ja 404 error text', errorText(nf, 'ja'));
expect(errorText(nf, 'en') === 'Error (not found): no ban for 192.0.2.1', 'en 404 error text', errorText(nf, 'en'));
expect(errorText({ status: 418, message: 'x' }, 'ja') === 'エラー（HTTP 418 エラー）: x', 'an unlisted status names its number', errorText({ status: 418, message: 'x' }, 'ja'));
expect(errorText({ status: 0, message: 'mailwardd is not reachable (fetch failed)' }, 'ja').startsWith('エラー（mailwardd に接続できません）'), 'ja unreachable');
expect(errorText(new Error('boom'), 'ja') === 'エラー: boom', 'an error without a status', errorText(new Error('boom'), 'ja'));

// ip.js
const cases = [
	['203.0.113.9', true], ['203.0.113.0/24', true], ['2001:db8::/64', true], ['::ffff:192.0.2.1', true],
	['2001:db8::1', true], ['::', true], ['1.2.3', false], ['256.1.1.1', false], ['1.2.3.4/33', false],
	['2001:db8::/129', false], ['2001:db8:::1', false], ['1:2:3:4:5:6:7:8:9', false], ['', false],
	['abc', false], ['1.2.3.4/24/1', false], ['01234::', false],
];
for (const [s, want] of cases) expect(isValidNet(s) === want, `isValidNet(${JSON.stringify(s)}) is ${want}`);
const inNet = [
	['198.51.100.0/24', '198.51.100.20', true], ['198.51.100.0/24', '198.51.101.20', false],
	['192.0.2.0/25', '192.0.2.127', true], ['192.0.2.0/25', '192.0.2.128', false],
	['2001:db8::/64', '2001:db8::abcd', true], ['2001:db8::/64', '2001:db8:0:1::1', false],
	['0.0.0.0/0', '8.8.8.8', true], ['0.0.0.0/0', '2001:db8::1', false],
	['203.0.113.9', '203.0.113.9', true], ['203.0.113.9', '203.0.113.10', false],
	['192.0.2.0/24', '::ffff:192.0.2.7', true],
];
for (const [n, a, want] of inNet)
	expect(contains(parseNet(n), parseNet(a)) === want, `${n} ${want ? 'contains' : 'does not contain'} ${a}`);

console.log(`# unit.test.mjs: ${passed} ok, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
