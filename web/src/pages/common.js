// common.js - pieces several pages share.

import { h, replace, message } from '../dom.js';
import { t, errorText } from '../i18n.js';

/* A page heading plus a region for results of actions (announced). */
export function pageHeader(titleKey, ...extra) {
	return h('div', { class: 'page-head' }, h('h1', {}, t(titleKey)), ...extra);
}

/* Shows an API failure: 404 on a GET means "this daemon does not have it". */
export function showError(el, err, path) {
	if (err && err.status === 404 && path)
		replace(el, message('info', t('app.unavailable', { path })));
	else
		replace(el, message('error', errorText(err)));
}

export function flash(el, kind, text) {
	replace(el, message(kind, text));
}

export function verdictBadge(v) {
	const key = 'verdict.' + v;
	const label = t(key) === key ? v : t(key);
	return h('span', { class: 'badge badge-' + String(v).toLowerCase(), title: v }, label);
}

export function sourceLabel(s) {
	const key = 'source.' + s;
	return t(key) === key ? s : t(key);
}

/* "1 h ago"-free: the dashboard always shows absolute times in the
   viewer's zone (Intl), the API's unix times converted. */
export function section(titleKey, ...children) {
	const hid = 'sec-' + titleKey.replace(/\W/g, '-');
	return h('section', { class: 'card', 'aria-labelledby': hid },
	    h('h2', { id: hid }, t(titleKey)), ...children);
}

/* Runs fn every ms while the page is visible (a hidden tab does not poll,
   so it does not keep its session alive past the idle timeout). Returns
   the function that stops it. */
export function every(ms, fn) {
	const id = setInterval(() => { if (!document.hidden) fn(); }, ms);
	return () => clearInterval(id);
}
