// dashboard.test.mjs - the dashboard in headless Chromium against the real
// mailwardd (started by tests/integration/browser_dashboard.sh, which sets
// the environment below). Nothing is mocked: bans and list entries go
// through the daemon's store, verdicts are asked over the Postfix policy
// protocol (lib.sh policy_query) and the CLI reads the store back.
//
// Environment:
//   MW_DASH_URL       http://127.0.0.1:PORT (the dashboard listener)
//   MW_ADMIN_NAME, MW_ADMIN_PASSWORD   an admin made with `mailward admin add`
//   MW_CLI, MW_CONF   the CLI and the test daemon's config
//   MW_POLICY_PORT    the policy listener; MW_LIB the path of lib.sh
//   MW_OUT_DIR        screenshots go here (kept after the test)
// Output: TAP-like "ok - ..." / "FAIL - ..." lines; exit 1 if any failed.

import { chromium } from 'playwright-core';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';

const env = (k, d) => {
	const v = process.env[k] ?? d;
	if (v === undefined) { console.error(`dashboard.test.mjs: ${k} is not set`); process.exit(2); }
	return v;
};
const BASE = env('MW_DASH_URL');
const ADMIN = env('MW_ADMIN_NAME');
const PASSWORD = env('MW_ADMIN_PASSWORD');
const CLI = env('MW_CLI');
const CONF = env('MW_CONF');
const POLICY_PORT = env('MW_POLICY_PORT');
const LIB = env('MW_LIB');
const OUT = env('MW_OUT_DIR');
const CHROMIUM = env('MW_CHROMIUM', '/usr/bin/chromium');
mkdirSync(OUT, { recursive: true });

let passed = 0, failed = 0;
const ok = (d) => { passed++; console.log(`ok   - ${d}`); };
const fail = (d) => { failed++; console.log(`FAIL - ${d}`); };
const note = (d) => console.log(`     # ${d}`);
function expect(cond, desc, detail) {
	if (cond) ok(desc); else fail(desc + (detail !== undefined ? `: ${detail}` : ''));
	return !!cond;
}

/* A step: runs fn, a throw is one failure naming the step (the test goes on). */
async function step(desc, fn) {
	try {
		await fn();
	} catch (e) {
		fail(`${desc}: ${String(e.message || e).split('\n')[0]}`);
	}
}

// ------------------------------------------------------------ the daemon side

function cli(...args) {
	const r = spawnSync(CLI, ['-c', CONF, ...args], { encoding: 'utf8', timeout: 30000 });
	if (r.status !== 0) throw new Error(`mailward ${args.join(' ')}: exit ${r.status}: ${r.stderr.trim()}`);
	return r.stdout;
}
const cliJson = (...args) => JSON.parse(cli('--json', ...args));
const bannedInStore = (a) => (cliJson('ban', 'list').bans || []).some((b) => b.address === a);

function policy(addr) {
	const r = spawnSync('bash', ['-c', 'source "$MW_LIB"; policy_query "$1"', 'policy', addr], {
		encoding: 'utf8', timeout: 30000, env: { ...process.env, MW_LIB: LIB, MW_POLICY_PORT: POLICY_PORT },
	});
	return (r.stdout || '').trim() || 'NO-ANSWER';
}

async function until(fn, ms = 10000) {
	const end = Date.now() + ms;
	for (;;) {
		const v = await fn();
		if (v) return v;
		if (Date.now() > end) return v;
		await new Promise((r) => setTimeout(r, 200));
	}
}

// ----------------------------------------------------------- the browser side

const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
	'--disable-background-networking', '--disable-component-update', '--disable-sync'];
const profiles = [];

async function browser(locale) {
	const dir = mkdtempSync(join(tmpdir(), 'mw-chromium-'));
	profiles.push(dir);
	const ctx = await chromium.launchPersistentContext(dir, {
		executablePath: CHROMIUM, headless: true, args: ARGS, locale,
		timezoneId: 'Asia/Tokyo', viewport: { width: 1280, height: 900 },
	});
	ctx.setDefaultTimeout(15000);
	return ctx;
}

/* Console errors, page errors and CSP violations of a page, by phase. The
   only errors allowed are the failed requests to /api/v1/session that a
   phase expects (401 before logging in, 401/429 for a wrong password). */
function watch(page) {
	const w = { errors: [], allowSession: true, allow: null };
	page.on('console', (m) => {
		if (m.type() !== 'error' && m.type() !== 'warning') return;
		const text = m.text();
		const url = (m.location() && m.location().url) || '';
		if (/Failed to load resource/.test(text) && w.allowSession && /\/api\/v1\/session$/.test(url)) return;
		// a request the step makes fail on purpose (e.g. a 400 for bad input)
		if (/Failed to load resource/.test(text) && w.allow && w.allow.test(text + ' ' + url)) return;
		if (m.type() === 'warning' && !/Content.Security.Policy|Refused/i.test(text)) return;
		w.errors.push(`${m.type()}: ${text} ${url}`);
	});
	page.on('pageerror', (e) => w.errors.push(`pageerror: ${e.message}`));
	w.take = () => { const e = w.errors; w.errors = []; return e; };
	return w;
}

function noErrors(w, where) {
	const e = w.take();
	expect(e.length === 0, `${where}: no console errors, page errors or CSP violations`, e.slice(0, 3).join(' | '));
}

async function login(page, name, password) {
	await page.fill('#login-name', name);
	await page.fill('#login-password', password);
	await page.click('.login-form button[type=submit]');
}

const PAGES = ['overview', 'bans', 'lists', 'accounts', 'events', 'audit'];

/* Waits until a page's data arrived (or its error/unavailable message). */
async function settle(page, name) {
	const ready = {
		overview: '#ov-cards .stat, .page-msg .msg',
		bans: '#bans-count:not(:empty), #bans-msg .msg',
		lists: '#lists-panel table, #lists-panel .empty, #lists-msg .msg',
		accounts: '#alerts > *',
		events: '#ev-count:not(:empty), .page-msg .msg',
		audit: 'main table, main .empty, .page-msg .msg',
	}[name];
	await page.waitForSelector(ready);
	await page.waitForTimeout(300);	// plots draw, fonts settle
}

async function shoot(page, name) {
	await page.screenshot({ path: join(OUT, `${name}.png`), fullPage: true });
}

// ------------------------------------------------------------------ scenarios

const ctx = await browser('en-US');
const page = ctx.pages()[0] || await ctx.newPage();
const w = watch(page);

await step('login page', async () => {
	const res = await page.goto(BASE + '/');
	const csp = res.headers()['content-security-policy'] || '';
	expect(/script-src[^;]*'self'/.test(csp) && !/unsafe-inline|unsafe-eval/.test(csp),
	    'index.html is served with a strict Content-Security-Policy (no unsafe-inline, no unsafe-eval)', csp);
	await page.waitForSelector('#login-name');
	expect(await page.locator('html').getAttribute('lang') === 'en', 'an English browser gets the English page');
	expect(await page.locator('label[for=login-password]').innerText() === 'Password', 'login form is labelled');
	await page.setViewportSize({ width: 1280, height: 900 });
	await shoot(page, 'login-en-1280');
	await page.setViewportSize({ width: 375, height: 812 });
	await shoot(page, 'login-en-375');
	await page.setViewportSize({ width: 1280, height: 900 });
});

await step('a wrong password', async () => {
	await login(page, ADMIN, PASSWORD + 'x');
	const msg = page.locator('#login-status [role=alert]');
	await msg.waitFor();
	expect(/Wrong name or password/.test(await msg.innerText()), 'a wrong password shows "Wrong name or password."',
	    await msg.innerText());
	expect(await page.locator('nav').count() === 0, 'a wrong password does not open the dashboard');
	// a second one: with [login] alert_after_failures = 2 the next success is an alert
	const before = Number(await page.locator('#login-status').getAttribute('data-attempt'));
	await login(page, ADMIN, PASSWORD + 'y');
	await page.waitForFunction((n) => Number(document.querySelector('#login-status')?.dataset.attempt) > n, before);
});
noErrors(w, 'login page');

await step('log in', async () => {
	const t0 = Date.now();
	await login(page, ADMIN, PASSWORD);
	await page.waitForSelector('nav a[aria-current=page]');
	ok('the right password opens the dashboard');
	await page.waitForSelector('#ov-cards .stat');
	note(`login to a drawn overview: ${Date.now() - t0} ms (argon2id check included)`);
	expect((await page.locator('.who').innerText()).includes(ADMIN), 'the header names the admin');
	w.allowSession = false;
});

// data for the overview: refusals from a denied network, a few bans
await step('traffic for the plots', async () => {
	cli('deny', 'add', '192.0.2.0/24', '--comment', 'browser test: documentation network');
	for (let i = 1; i <= 12; i++) policy(`192.0.2.${i}`);
	for (let i = 1; i <= 4; i++) cli('ban', 'add', `198.18.0.${i}`, '--for', '2h', '--reason', `browser test ${i}`);
	for (let i = 1; i <= 8; i++) cli('ban', 'add', `198.19.${i}.0/24`, '--for', '1d', '--reason', `paging ${i}`);
	note('12 refused policy requests, 12 bans');
});

await step('a ban made through the CLI appears in the table', async () => {
	cli('ban', 'add', '203.0.113.77', '--for', '1h', '--reason', 'cli ban for the browser test');
	expect(/^REJECT|^5\d\d/.test(policy('203.0.113.77')), 'the banned address is refused by the policy service');
	const t0 = Date.now();
	await page.goto(BASE + '/#/bans');
	await settle(page, 'bans');
	note(`blocked addresses page ready: ${Date.now() - t0} ms`);
	const row = page.locator('tr[data-key="203.0.113.77"]');
	await row.waitFor();
	const text = await row.innerText();
	expect(/cli ban for the browser test/.test(text) && /manual/.test(text),
	    'the row shows the reason and the source', text.replace(/\s+/g, ' '));
});

await step('search, sort and page the blocked addresses', async () => {
	const rows = page.locator('main tbody tr');
	await page.fill('#bans-search', 'browser test 3');
	await page.waitForFunction(() => document.querySelectorAll('main tbody tr').length === 1);
	expect(await rows.first().getAttribute('data-key') === '198.18.0.3', 'searching a reason finds its ban');
	await page.fill('#bans-search', '');
	const th = page.locator('th:has(button[data-col=address])');
	await th.locator('button').click();
	expect(await th.getAttribute('aria-sort') === 'ascending', 'a header click sorts (aria-sort="ascending")');
	const keys = await rows.evaluateAll((trs) => trs.map((tr) => tr.dataset.key));
	expect(keys[0] === '198.18.0.1' && keys.length === 13, 'sorted by address, first row 198.18.0.1', keys.slice(0, 3).join(','));
	await th.locator('button').click();
	expect(await th.getAttribute('aria-sort') === 'descending', 'a second click reverses it');
	await page.selectOption('#bans-pagesize', '10');
	expect(/Page 1 of 2/.test(await page.locator('.pager').innerText()) && await rows.count() === 10,
	    '13 bans at 10 per page: page 1 of 2 with 10 rows');
	await page.locator('.pager button', { hasText: 'Next page' }).click();
	expect(await rows.count() === 3, 'the next page has the other 3');
	await page.selectOption('#bans-pagesize', '25');
	for (let i = 1; i <= 8; i++) cli('ban', 'del', `198.19.${i}.0/24`);
});

await step('explain', async () => {
	await page.locator('tr[data-key="203.0.113.77"] [data-action=explain]').click();
	const dlg = page.locator('dialog[open]');
	await dlg.locator('.explain').waitFor();
	const text = await dlg.innerText();
	expect(/REJECT/.test(text) && /Bans: matched/.test(text), 'explain shows the verdict and the matching ban step',
	    text.replace(/\s+/g, ' ').slice(0, 200));
	expect(/Login guard/.test(text) && /failed login/.test(text), 'and the login guard\'s view of the address',
	    text.replace(/\s+/g, ' ').slice(-200));
	await page.keyboard.press('Escape');
	await dlg.waitFor({ state: 'detached' });
	ok('Escape closes the explanation');
});

await step('unblock one address in the page', async () => {
	await page.locator('tr[data-key="203.0.113.77"] [data-action=unblock]').click();
	await page.locator('tr[data-key="203.0.113.77"]').waitFor({ state: 'detached' });
	ok('the unblocked row leaves the table');
	expect(!bannedInStore('203.0.113.77'), 'the ban is gone from the store (mailward ban list --json)');
	const got = policy('203.0.113.77');
	expect(got === 'DUNNO', 'the policy service answers DUNNO again for the unblocked address', got);
});

await step('unblock several with the checkboxes', async () => {
	await page.locator('input[data-key="198.18.0.3"]').check();
	await page.locator('input[data-key="198.18.0.4"]').check();
	const btn = page.locator('#bans-unblock-selected');
	expect(/\(2\)/.test(await btn.innerText()), 'the button counts the selection');
	await btn.click();
	await page.locator('tr[data-key="198.18.0.4"]').waitFor({ state: 'detached' });
	expect(!bannedInStore('198.18.0.3') && !bannedInStore('198.18.0.4') && bannedInStore('198.18.0.1'),
	    'exactly the selected bans left the store');
});

await step('block by hand: the API\'s error is shown', async () => {
	w.allow = /status of 400 .*\/api\/v1\/bans$/;
	await page.fill('#ban-address', '10.0.0.1/8');
	await page.click('#ban-add-form button[type=submit]');
	const m = page.locator('#ban-add-msg [role=alert]');
	await m.waitFor();
	const text = await m.innerText();
	expect(/10\.0\.0\.0\/8/.test(text), 'a network with host bits set is refused with the daemon\'s suggestion', text);
	expect(await page.locator('#ban-address').getAttribute('aria-invalid') === 'true', 'the field is marked invalid');
	await page.fill('#ban-address', 'not-an-address');
	await page.click('#ban-add-form button[type=submit]');
	await page.waitForFunction(() => /not-an-address/.test(document.querySelector('#ban-add-msg')?.textContent || ''));
	ok('a typo is caught before it is sent');
	w.allow = null;
});

await step('block by hand', async () => {
	await page.fill('#ban-address', '203.0.113.0/28');
	await page.selectOption('#ban-duration', '7d');
	await page.fill('#ban-reason', 'blocked from the dashboard');
	await page.click('#ban-add-form button[type=submit]');
	await page.locator('tr[data-key="203.0.113.0/28"]').waitFor();
	const b = (cliJson('ban', 'list').bans || []).find((x) => x.address === '203.0.113.0/28');
	expect(b && b.reason === 'blocked from the dashboard' && b.expires - Math.floor(Date.now() / 1000) > 6 * 86400,
	    'the ban is in the store with its reason and a 7-day expiry', JSON.stringify(b));
	const got = policy('203.0.113.5');
	expect(/^REJECT|^5\d\d/.test(got), 'an address in the blocked network is refused', got);
});
await step('block by hand for a duration of one\'s own', async () => {
	await page.fill('#ban-address', '203.0.113.192/27');
	await page.selectOption('#ban-duration', 'custom');
	expect(await page.evaluate(() => document.activeElement.id) === 'ban-duration-custom',
	    '"Other…" shows the duration field and moves the focus there');
	await page.fill('#ban-duration-custom', 'a week');
	await page.click('#ban-add-form button[type=submit]');
	await page.waitForFunction(() => /a week/.test(document.querySelector('#ban-add-msg')?.textContent || ''));
	ok('a duration the daemon could not read is refused in the page');
	await page.fill('#ban-duration-custom', '36h');
	await page.click('#ban-add-form button[type=submit]');
	await page.locator('tr[data-key="203.0.113.192/27"]').waitFor();
	const b = (cliJson('ban', 'list').bans || []).find((x) => x.address === '203.0.113.192/27');
	const left = b ? b.expires - Math.floor(Date.now() / 1000) : -1;
	expect(left > 35 * 3600 && left <= 36 * 3600, 'the ban expires in 36 h', left);
	await page.selectOption('#ban-duration', '1d');
});

await step('bans page at phone width', async () => {
	await shoot(page, 'bans-en-1280');
	await page.setViewportSize({ width: 375, height: 812 });
	const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
	expect(overflow <= 0, 'at 375 px the page does not scroll sideways', `${overflow} px too wide`);
	await shoot(page, 'bans-en-375');
	await page.setViewportSize({ width: 1280, height: 900 });
});
noErrors(w, 'bans page');

await step('a deny entry added in the page', async () => {
	expect(policy('198.51.100.20') === 'DUNNO', 'before: 198.51.100.20 gets DUNNO');
	await page.goto(BASE + '/#/lists');
	await settle(page, 'lists');
	await page.click('#tab-deny');
	await page.waitForSelector('#tab-deny[aria-selected=true]');
	await page.fill('#list-network', '198.51.100.0/24');
	await page.fill('#list-comment', 'added in the browser test');
	await page.click('#list-add-submit');
	await page.locator('tr[data-key="198.51.100.0/24"]').waitFor();
	const got = policy('198.51.100.20');
	expect(/^REJECT|^5\d\d/.test(got), 'after: the policy service rejects 198.51.100.20', got);
	const entries = cliJson('deny', 'list').entries || [];
	expect(entries.some((e) => e.network === '198.51.100.0/24' && e.comment === 'added in the browser test'),
	    'the entry and its comment are in the store (mailward deny list --json)');
	// the entry now matches live traffic (the refusal just made)
	await page.goto(BASE + '/#/lists');
	await page.click('#tab-deny');
	const live = page.locator('tr[data-key="192.0.2.0/24"] [data-live]');
	await live.waitFor();
	const n = await until(async () => {
		await page.click('#tab-allow'); await page.click('#tab-deny');
		await live.waitFor();
		return Number(await live.getAttribute('data-live')) >= 12;
	}, 8000);
	expect(n, 'the deny entry shows that it matched the 12 refusals of the last hour',
	    await live.getAttribute('data-live'));
	await shoot(page, 'lists-en-1280');
});
noErrors(w, 'lists page');

await step('the live event feed', async () => {
	await page.goto(BASE + '/#/events');
	await settle(page, 'events');
	await page.waitForSelector('#ev-live[data-state=open]');
	ok('the event stream is open');
	const t0 = Date.now();
	policy('198.51.100.99');
	const row = page.locator('#ev-rows tr', { hasText: '198.51.100.99' });
	await row.first().waitFor({ timeout: 10000 });
	ok('a refusal appears in the feed without reloading');
	note(`policy request to its row in the live feed: ${Date.now() - t0} ms`);
	await row.first().locator('button').click();
	const dlg = page.locator('dialog[open]');
	await dlg.locator('.explain').waitFor();
	expect(/Deny list: matched/.test(await dlg.innerText()), 'an event\'s address opens its explanation (deny list matched)');
	await page.keyboard.press('Escape');
	await dlg.waitFor({ state: 'detached' });
	await page.selectOption('#ev-verdict', 'BAN');
	expect(await page.locator('#ev-rows tr', { hasText: '198.51.100.99' }).count() === 0,
	    'the verdict filter hides the refusal');
	await page.selectOption('#ev-verdict', '');
});
noErrors(w, 'events page');

await step('a possible takeover alert, acknowledged in the page', async () => {
	const open = cliJson('alerts').alerts || [];
	const a = open.find((x) => x.account === ADMIN);
	if (!expect(a, 'the login after two wrong passwords raised an alert (mailward alerts --json)', JSON.stringify(open)))
		return;
	await page.goto(BASE + '/#/accounts');
	await settle(page, 'accounts');
	const item = page.locator(`li.alert[data-id="${a.id}"]`);
	await item.waitFor();
	const text = await item.innerText();
	expect(text.includes(ADMIN) && text.includes('127.0.0.1') && /login after failures/.test(text),
	    'the alert shows the account, the address and its kind', text.replace(/\s+/g, ' '));
	await item.locator('summary').click();
	expect(/failures/.test(await item.locator('.evidence').innerText()), 'the evidence opens');
	await shoot(page, 'accounts-alert-en-1280');
	await item.locator('[data-action=ack]').click();
	await item.waitFor({ state: 'detached' });
	ok('the acknowledged alert leaves the open list');
	const acc = page.locator('tr[data-key="info@example.jp"]');
	expect(await acc.count() === 1 && /8/.test(await acc.innerText()),
	    'accounts under attack: info@example.jp with its failures from 8 addresses (from the mail log)',
	    await acc.count() ? (await acc.innerText()).replace(/\s+/g, ' ') : 'no row');
	await acc.locator('[data-action=account]').click();
	const dlg = page.locator('dialog[open]');
	await dlg.locator('.detail').waitFor();
	const dt = await dlg.innerText();
	expect(/Recent failed logins/.test(dt) && /203\.0\.113\.1\d/.test(dt),
	    'the account\'s detail lists its recent failed logins', dt.replace(/\s+/g, ' ').slice(0, 300));
	await page.keyboard.press('Escape');
	await dlg.waitFor({ state: 'detached' });
	const all = cliJson('alerts', '--all').alerts || [];
	const b = all.find((x) => x.id === a.id);
	expect(b && b.acknowledged_at && String(b.acknowledged_by).includes(ADMIN),
	    'the store has it acknowledged by the admin', JSON.stringify(b));
	await page.check('#acc-show-acked');
	await item.waitFor();
	expect(/Acknowledged/.test(await item.innerText()), '"show acknowledged" shows it again, marked');
});
noErrors(w, 'accounts page');

await step('remove a list entry in the page', async () => {
	await page.goto(BASE + '/#/lists');
	await page.click('#tab-allow');
	const cfgRow = page.locator('tr[data-key="100.64.0.0/10"]');
	await cfgRow.waitFor();
	expect(/config file/.test(await cfgRow.innerText()) && await cfgRow.locator('[data-action=remove]').count() === 0,
	    'an entry from the config file is marked so and has no remove button');
	await page.click('#tab-deny');
	await page.fill('#lists-search', '198.51');
	await page.waitForFunction(() => document.querySelectorAll('#lists-panel tbody tr').length === 1);
	ok('the search narrows the deny list to the matching entry');
	await page.locator('tr[data-key="198.51.100.0/24"] [data-action=remove]').click();
	await page.locator('tr[data-key="198.51.100.0/24"]').waitFor({ state: 'detached' });
	const entries = cliJson('deny', 'list').entries || [];
	expect(!entries.some((e) => e.network === '198.51.100.0/24'), 'the entry is gone from the store (mailward deny list --json)');
	const got = policy('198.51.100.20');
	expect(got === 'DUNNO', 'the policy service answers DUNNO for 198.51.100.20 again', got);
	await page.fill('#lists-search', '');
});
noErrors(w, 'lists page (removal)');

await step('the audit log', async () => {
	await page.goto(BASE + '/#/audit');
	await settle(page, 'audit');
	const text = await page.locator('main').innerText();
	expect(text.includes(ADMIN) && text.includes('203.0.113.77'),
	    'the audit log names the admin and the address unblocked in the page', text.slice(0, 300));
});
noErrors(w, 'audit page');

// every page, English and Japanese, desktop and phone
for (const lang of ['en', 'ja']) {
	await step(`screenshots (${lang})`, async () => {
		await page.goto(BASE + '/#/overview');
		await page.selectOption('#lang-switch', lang);
		await page.waitForFunction((l) => document.documentElement.lang === l, lang);
		for (const p of PAGES) {
			for (const width of [1280, 375]) {
				await page.setViewportSize({ width, height: width > 400 ? 900 : 812 });
				await page.goto(BASE + '/#/' + p);
				await settle(page, p);
				if (width === 375) {
					const over = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
					expect(over <= 0, `${p} (${lang}) at 375 px does not scroll sideways`, `${over} px too wide`);
				}
				await shoot(page, `${p}-${lang}-${width}`);
				if (p === 'overview' && lang === 'en' && width === 1280) {
					await page.screenshot({ path: join(OUT, 'dashboard.png') });
				}
			}
			noErrors(w, `${p} page (${lang})`);
		}
		await page.setViewportSize({ width: 1280, height: 900 });
	});
}

await step('the Japanese view', async () => {
	// the switch is remembered (localStorage) across a reload
	await page.goto(BASE + '/#/bans');
	await page.reload();
	await settle(page, 'bans');
	const nav = await page.locator('nav').innerText();
	expect(await page.locator('html').getAttribute('lang') === 'ja', 'the page says lang="ja"');
	for (const label of ['概要', 'ブロック中のアドレス', '許可リスト / 拒否リスト', 'アカウント', 'イベント', '監査ログ'])
		expect(nav.includes(label), `the menu shows ${label}`);
	const head = await page.locator('main h1').innerText();
	expect(head === 'ブロック中のアドレス', 'the page title is ブロック中のアドレス', head);
	const ths = await page.locator('main th').allInnerTexts();
	expect(['アドレス', '検出元', '理由', '解除予定'].every((x) => ths.some((t) => t.includes(x))),
	    'the table headers are Japanese', ths.join(','));
	const when = (await page.locator('tr[data-key="198.18.0.1"] td[data-label="最終検知"]').innerText()).trim();
	const ban = (cliJson('ban', 'list').bans || []).find((b) => b.address === '198.18.0.1');
	const want = new Intl.DateTimeFormat('ja-JP', { timeZone: 'Asia/Tokyo', year: 'numeric', month: '2-digit',
		day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' }).format(new Date(ban.last_seen * 1000));
	expect(when === want, 'dates are in the Japanese form and in the viewer\'s time zone (Asia/Tokyo)',
	    `page ${when}, want ${want}`);
	w.allow = /status of 400 .*\/api\/v1\/bans$/;
	await page.fill('#ban-address', '10.0.0.1/8');
	await page.click('#ban-add-form button[type=submit]');
	const err = page.locator('#ban-add-msg [role=alert]');
	await err.waitFor();
	const etext = await err.innerText();
	expect(etext.startsWith('エラー（入力が正しくありません）: ') && /10\.0\.0\.0\/8/.test(etext),
	    'an API error says in Japanese what went wrong, then the daemon\'s words', etext);
	w.allow = null;
	await page.goto(BASE + '/#/lists');
	await settle(page, 'lists');
	expect((await page.locator('[role=tab]').allInnerTexts()).join('|') === '許可リスト|拒否リスト',
	    'the list tabs are 許可リスト and 拒否リスト');
	await page.selectOption('#lang-switch', 'en');
	await page.waitForFunction(() => document.documentElement.lang === 'en');
});
noErrors(w, 'Japanese view');

await step('keyboard', async () => {
	await page.goto(BASE + '/#/overview');
	await page.reload();	// a fresh load: focus starts at the top
	await settle(page, 'overview');
	await page.keyboard.press('Tab');
	const first = await page.evaluate(() => document.activeElement.className);
	expect(first === 'skip', 'the first Tab reaches the "skip to content" link', first);
	const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
	expect(outline !== 'none', 'the focused element has a visible outline', outline);
	await page.focus('[data-range="hour"]');
	await page.keyboard.press('ArrowRight');
	await page.waitForSelector('[data-range="day"][aria-checked=true]');
	ok('arrow keys change the plot range');
});

await step('log out', async () => {
	await page.click('#logout');
	await page.waitForSelector('#login-name');
	ok('"Log out" shows the login form');
	w.allowSession = true;
	const st = await page.evaluate(async () => (await fetch('/api/v1/bans')).status);
	expect(st === 401, 'after logging out the API answers 401', st);
	await page.reload();
	await page.waitForSelector('#login-name');
	ok('a reload after logging out stays on the login form');
	w.take();	// the 401s just provoked
});

await ctx.close();

// a browser that prefers Japanese, and a password guesser
const ja = await browser('ja-JP');
const jp = ja.pages()[0] || await ja.newPage();
const jw = watch(jp);
await step('a Japanese browser', async () => {
	await jp.goto(BASE + '/');
	await jp.waitForSelector('#login-name');
	expect(await jp.locator('h1').innerText() === 'mailward にログイン', 'the login page is in Japanese');
	expect(await jp.locator('label[for=login-password]').innerText() === 'パスワード', 'the password field is labelled パスワード');
	await shoot(jp, 'login-ja-1280');
	await jp.setViewportSize({ width: 375, height: 812 });
	await shoot(jp, 'login-ja-375');
});
// The login guard trusts the networks an account logged in from (trust_known):
// the guesser tries a name that never logged in from here.
const GUESSED = 'root';
await step('repeated wrong passwords are throttled', async () => {
	let throttled = false, i = 0, text = '', kind = '';
	const status = jp.locator('#login-status');
	for (i = 1; i <= 30 && !throttled; i++) {
		const before = Number(await status.getAttribute('data-attempt') || 0);
		await login(jp, GUESSED, `wrong-${i}-password`);
		await jp.waitForFunction((n) => Number(document.querySelector('#login-status')
		    ?.dataset.attempt || 0) > n, before, { timeout: 30000 });
		text = await status.innerText();
		kind = await status.getAttribute('data-kind');
		throttled = kind === 'throttled' || kind === 'refused';
	}
	expect(throttled, `after ${i - 1} wrong passwords the page says the login is throttled (${kind})`, text);
	expect(/制限中|ブロックされています/.test(text), 'the throttling message is in Japanese', text);
	await shoot(jp, 'login-throttled-ja-375');
});
noErrors(jw, 'Japanese login page');
await ja.close();

for (const d of profiles) rmSync(d, { recursive: true, force: true });
note(`screenshots in ${OUT}`);
console.log(`# dashboard.test.mjs: ${passed} ok, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
