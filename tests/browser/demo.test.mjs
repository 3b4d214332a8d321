// demo.test.mjs - the dashboard of `mailwardd --demo` in headless Chromium
// (started by tests/integration/browser_demo.sh): the demo admin logs in
// with the password the daemon printed, every page says it shows demo
// data, the generated attack fills the overview (plots, top lists), the
// blocked addresses, the accounts page (a takeover alert) and the event
// feed. Screenshots of the demo go to MW_OUT_DIR/demo-*.png;
// MW_DOC_SCREENSHOT=1 writes docs/img/dashboard.png from the demo's
// overview (the README's picture).
//
// Environment: MW_DASH_URL, MW_ADMIN_NAME, MW_ADMIN_PASSWORD, MW_OUT_DIR,
// MW_SOURCE_DIR, MW_CHROMIUM (default /usr/bin/chromium).

import { chromium } from 'playwright-core';
import { mkdirSync, mkdtempSync, copyFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';

const env = (k, d) => {
	const v = process.env[k] ?? d;
	if (v === undefined) { console.error(`demo.test.mjs: ${k} is not set`); process.exit(2); }
	return v;
};
const BASE = env('MW_DASH_URL');
const OUT = env('MW_OUT_DIR');
mkdirSync(OUT, { recursive: true });

let passed = 0, failed = 0;
function expect(cond, desc, detail) {
	if (cond) { passed++; console.log(`ok   - ${desc}`); }
	else { failed++; console.log(`FAIL - ${desc}${detail !== undefined ? ': ' + detail : ''}`); }
	return !!cond;
}
async function step(desc, fn) {
	try { await fn(); } catch (e) { expect(false, `${desc}: ${String(e.message || e).split('\n')[0]}`); }
}

const profile = mkdtempSync(join(tmpdir(), 'mw-chromium-'));
const ctx = await chromium.launchPersistentContext(profile, {
	executablePath: env('MW_CHROMIUM', '/usr/bin/chromium'), headless: true, locale: 'en-US',
	timezoneId: 'Asia/Tokyo', viewport: { width: 1280, height: 900 },
	args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
		'--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
ctx.setDefaultTimeout(15000);
const page = ctx.pages()[0] || await ctx.newPage();
const errors = [];
let loggedIn = false;
page.on('console', (m) => {
	if (m.type() !== 'error') return;
	const url = (m.location() && m.location().url) || '';
	if (!loggedIn && /\/api\/v1\/session$/.test(url)) return;	// the 401 before logging in
	errors.push(`${m.text()} ${url}`);
});
page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));

await step('log in as the demo admin', async () => {
	await page.goto(BASE + '/');
	await page.fill('#login-name', env('MW_ADMIN_NAME'));
	await page.fill('#login-password', env('MW_ADMIN_PASSWORD'));
	await page.click('.login-form button[type=submit]');
	await page.waitForSelector('nav');
	loggedIn = true;
	expect(true, 'the printed demo password logs in');
});

await step('overview', async () => {
	await page.goto(BASE + '/#/overview');
	await page.waitForSelector('#ov-cards .stat');
	const banner = page.locator('#demo-banner');
	expect(await banner.count() === 1 && /Demo mode/.test(await banner.innerText()), 'the demo banner is shown');
	const total = async (k) => Number((await page.locator(`[data-series=${k}] .stat-value`).innerText()).replace(/\D/g, ''));
	expect(await total('login_failures') > 0, 'the generated attack shows login failures', await total('login_failures'));
	expect(await total('refused') > 0, 'and refused connections', await total('refused'));
	expect(await page.locator('#ov-tops table').count() >= 2, 'the top lists are filled');
	await page.waitForTimeout(400);
	await page.screenshot({ path: join(OUT, 'demo-overview-en-1280.png') });
	await page.screenshot({ path: join(OUT, 'demo-dashboard.png') });
});

await step('blocked addresses', async () => {
	await page.goto(BASE + '/#/bans');
	await page.waitForSelector('#bans-count:not(:empty)');
	const rows = await page.locator('main tbody tr').count();
	expect(rows > 0, 'the demo\'s bans are listed', rows);
	expect(await page.locator('#demo-banner').count() === 1, 'the demo banner is on this page too');
	await page.screenshot({ path: join(OUT, 'demo-bans-en-1280.png'), fullPage: true });
});

await step('accounts', async () => {
	await page.goto(BASE + '/#/accounts');
	await page.waitForSelector('#alerts > *');
	const alerts = await page.locator('li.alert').count();
	expect(alerts > 0, 'the demo\'s takeover alert is shown', alerts);
	expect(await page.locator('main tbody tr').count() > 0, 'accounts under attack are listed');
	await page.screenshot({ path: join(OUT, 'demo-accounts-en-1280.png'), fullPage: true });
});

await step('Japanese', async () => {
	await page.selectOption('#lang-switch', 'ja');
	await page.goto(BASE + '/#/overview');
	await page.waitForSelector('#ov-cards .stat');
	expect(/デモモード/.test(await page.locator('#demo-banner').innerText()), 'the banner in Japanese says デモモード');
	await page.waitForTimeout(400);
	await page.screenshot({ path: join(OUT, 'demo-overview-ja-1280.png') });
	await page.setViewportSize({ width: 375, height: 812 });
	await page.reload();
	await page.waitForSelector('#ov-cards .stat');
	await page.waitForTimeout(400);
	await page.screenshot({ path: join(OUT, 'demo-overview-ja-375.png'), fullPage: true });
});

expect(errors.length === 0, 'no console errors, page errors or CSP violations', errors.slice(0, 3).join(' | '));
await ctx.close();
rmSync(profile, { recursive: true, force: true });
if (process.env.MW_DOC_SCREENSHOT === '1' && process.env.MW_SOURCE_DIR) {
	copyFileSync(join(OUT, 'demo-dashboard.png'), join(process.env.MW_SOURCE_DIR, 'docs/img/dashboard.png'));
	console.log('     # wrote docs/img/dashboard.png');
}
console.log(`# demo.test.mjs: ${passed} ok, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
