import { chromium } from 'playwright-core';
import { mkdtempSync } from 'node:fs';
const base = 'http://127.0.0.1:' + process.argv[2];
const ctx = await chromium.launchPersistentContext(mkdtempSync('/tmp/mwud-'), {
  executablePath: '/usr/bin/chromium', headless: true, locale: process.argv[3] || 'en-US', timezoneId: 'Asia/Tokyo',
  args: ['--headless','--no-sandbox','--disable-gpu','--disable-quic','--no-first-run','--disable-background-networking','--disable-component-update','--disable-sync'],
  viewport: { width: +(process.argv[4]||1280), height: 800 } });
const page = await ctx.newPage();
page.on('console', m => console.log('console', m.type(), m.text()));
page.on('pageerror', e => console.log('pageerror', e.message));
await page.goto(base + '/');
if (await page.locator('#login-name').count() === 0) await page.waitForTimeout(500);
if (await page.locator('#login-name').count()) { await page.fill('#login-name', 'admin'); await page.fill('#login-password', 'correct horse');
await page.click('form button[type=submit]'); }
await page.waitForSelector('nav');
for (const p of ['overview','bans','lists','accounts','events','audit']) {
  await page.goto(base + '/#/' + p); await page.waitForTimeout(1200);
  await page.screenshot({ path: `/tmp/shot-${p}-${process.argv[3]||'en'}-${process.argv[4]||1280}.png`, fullPage: process.env.FULL !== "0" });
}
await ctx.close();
