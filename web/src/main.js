// main.js - the dashboard shell: session, login page, header with the
// navigation and the language switch, and a hash router (#/overview,
// #/bans, #/lists, #/accounts, #/events, #/audit) that mounts one page at a
// time. A page module exports mount(container, ctx) and may return a
// function that unmounts it (closing its event stream, timers).

import { h, replace, field, message } from './dom.js';
import { t, detectLang, setLang, getLang, onLangChange, LANGS, timeZone, storedLang, errorText } from './i18n.js';
import { api, get, post, del, setCsrf, setUnauthorizedHandler, ApiError } from './api.js';
import * as overview from './pages/overview.js';
import * as bans from './pages/bans.js';
import * as lists from './pages/lists.js';
import * as accounts from './pages/accounts.js';
import * as events from './pages/events.js';
import * as audit from './pages/audit.js';

const PAGES = [
	{ path: 'overview', label: 'nav.overview', mod: overview },
	{ path: 'bans', label: 'nav.bans', mod: bans },
	{ path: 'lists', label: 'nav.lists', mod: lists },
	{ path: 'accounts', label: 'nav.accounts', mod: accounts },
	{ path: 'events', label: 'nav.events', mod: events },
	{ path: 'audit', label: 'nav.audit', mod: audit },
];

const app = document.getElementById('app');
const ctx = { session: null, status: null };
let unmount = null;
let loginNotice = null;
let loginAttempts = 0;	// data-attempt on the status: tests wait for an answer

function route() {
	const m = location.hash.match(/^#\/([a-z]+)/);
	const p = PAGES.find((x) => x.path === (m && m[1]));
	return p || PAGES[0];
}

function langSwitch() {
	const sel = h('select', {
		id: 'lang-switch', class: 'lang-switch',
		onchange: (e) => {
			setLang(e.target.value, true);
			// remembered with the admin too (PATCH /api/v1/session); best effort
			if (ctx.session) api('PATCH', '/api/v1/session', { language: getLang() }, { noRedirect: true }).catch(() => {});
		},
	}, LANGS.map((l) => h('option', { value: l, lang: l, selected: l === getLang() },
	    l === 'ja' ? '日本語' : 'English')));
	return h('div', { class: 'lang' },
	    h('label', { for: 'lang-switch', class: 'lang-label' }, t('app.lang')), sel);
}

function showLogin(noticeText) {
	if (unmount) { unmount(); unmount = null; }
	ctx.session = null;
	setCsrf('');
	if (noticeText !== undefined) loginNotice = noticeText;
	document.title = t('login.title');
	const name = h('input', { id: 'login-name', name: 'username', autocomplete: 'username',
		required: true, autocapitalize: 'none', spellcheck: 'false' });
	const pw = h('input', { id: 'login-password', name: 'password', type: 'password',
		autocomplete: 'current-password', required: true });
	const status = h('div', { id: 'login-status', class: 'login-status' },
	    loginNotice ? message('info', loginNotice) : null);
	const button = h('button', { type: 'submit', class: 'primary' }, t('login.submit'));
	const form = h('form', { class: 'login-form', novalidate: true, 'aria-labelledby': 'login-title',
		onsubmit: async (e) => {
			e.preventDefault();
			if (!name.value || !pw.value) {
				replace(status, message('error', t('login.required')));
				(name.value ? pw : name).focus();
				return;
			}
			button.disabled = true;
			try {
				await post('/api/v1/session', { name: name.value, password: pw.value },
				    { noRedirect: true });
				loginNotice = null;
				await start();
			} catch (err) {
				let text;
				if (err.status === 401) text = t('login.wrong');
				else if (err.status === 403) text = t('login.refused');
				else if (err.status === 429 || err.status === 503)
					text = err.retryAfter ? t('login.throttled', { n: err.retryAfter })
					    : t('login.throttledNoTime');
				else text = errorText(err);
				replace(status, message('error', text));
				status.dataset.kind = err.status === 429 || err.status === 503 ? 'throttled'
				    : err.status === 403 ? 'refused' : 'wrong';
				status.dataset.attempt = String(++loginAttempts);
				pw.value = '';
				pw.focus();
			} finally {
				button.disabled = false;
			}
		},
	},
	h('h1', { id: 'login-title' }, t('login.title')),
	field(t('login.name'), name),
	field(t('login.password'), pw),
	status,
	button,
	h('p', { class: 'help' }, t('login.intro')));
	replace(app, h('main', { class: 'login-page', id: 'main' },
	    h('div', { class: 'login-top' }, h('span', { class: 'brand' }, t('app.name')), langSwitch()),
	    form));
	name.focus();
}

function shell(page) {
	const nav = h('nav', { class: 'nav', 'aria-label': t('app.menu') },
	    h('ul', {}, PAGES.map((p) => h('li', {}, h('a', {
		href: '#/' + p.path, id: 'nav-' + p.path,
		'aria-current': p === page ? 'page' : null,
	    }, t(p.label))))));
	const user = h('div', { class: 'user' },
	    h('span', { class: 'who' }, t('app.signedInAs', { name: ctx.session.name })),
	    h('button', { type: 'button', id: 'logout', onclick: logout }, t('app.logout')));
	const banner = (ctx.status && ctx.status.demo) || ctx.session.demo
	    ? h('div', { class: 'demo-banner', role: 'note', id: 'demo-banner' }, t('app.demo')) : null;
	const main = h('main', { id: 'main', tabindex: '-1' });
	replace(app,
	    h('a', { href: '#main', class: 'skip', onclick: (e) => { e.preventDefault(); main.focus(); } },
		t('app.skip')),
	    banner,
	    h('header', { class: 'top' },
		h('a', { class: 'brand', href: '#/overview' }, t('app.name')), nav,
		h('div', { class: 'top-right' }, langSwitch(), user)),
	    main,
	    h('footer', { class: 'foot' }, t('app.timezone', { tz: timeZone() })));
	return main;
}

function render() {
	if (!ctx.session) { showLogin(); return; }
	if (unmount) { unmount(); unmount = null; }
	const page = route();
	document.title = `${t(page.label)} — mailward`;
	const main = shell(page);
	unmount = page.mod.mount(main, ctx) || null;
}

async function logout() {
	try { await del('/api/v1/session', { noRedirect: true }); } catch (e) { /* gone anyway */ }
	location.hash = '#/overview';
	showLogin(null);
}

async function loadStatus() {
	try {
		ctx.status = await get('/api/v1/status');
	} catch (e) {
		if (e.status === 401) throw e;
		ctx.status = null;
	}
}

async function start() {
	let s;
	try {
		s = await get('/api/v1/session', { noRedirect: true });
	} catch (e) {
		if (e instanceof ApiError && (e.status === 401 || e.status === 403)) { showLogin(); return; }
		replace(app, h('main', { class: 'login-page' }, message('error', errorText(e))));
		return;
	}
	ctx.session = { name: s.name || s.admin || '?', csrf: s.csrf_token || s.csrf || '', demo: !!s.demo };
	setCsrf(ctx.session.csrf);
	// the admin's saved language applies when this browser has no choice stored
	if (!storedLang() && (s.language === 'ja' || s.language === 'en') && s.language !== getLang())
		setLang(s.language, false);
	await loadStatus();
	render();
}

setUnauthorizedHandler(() => {
	if (ctx.session) showLogin(t('app.sessionExpired'));
});
window.addEventListener('hashchange', () => {
	if (!ctx.session) return;
	render();
	// a screen reader starts reading the new page
	document.getElementById('main')?.focus();
});
setLang(detectLang(), false);
onLangChange(() => { if (ctx.session) render(); else showLogin(); });
start();
