// accounts.js - the login guard's view: possible-takeover alerts with their
// evidence (GET /api/v1/alerts, POST /api/v1/alerts/ID/ack) and the
// accounts under attack with weak-password flags (GET /api/v1/accounts).

import { h, replace } from '../dom.js';
import { t, fmtTime, hasKey, fmtDuration } from '../i18n.js';
import { get, post, qs } from '../api.js';
import { pageHeader, showError, flash, section, every } from './common.js';
import { openDialog } from './bans.js';
import { dataTable } from '../table.js';

const accName = (a) => a.account ?? a.name ?? a.user ?? '';
const isAcked = (a) => a.acknowledged_at != null || !!a.acked;
const ackedBy = (a) => a.acknowledged_by ?? a.acked_by ?? '';

/* evidence: a list (of strings or event-like objects) or one object of
   named values (the login guard's: counts, networks, times). */
function evidenceList(ev) {
	if (Array.isArray(ev)) return ev.map(evidenceItem);
	return Object.entries(ev).map(([k, v]) => h('li', {},
	    h('span', { class: 'ev-key', title: k }, hasKey('evidence.' + k) ? t('evidence.' + k) : k), ': ',
	    Array.isArray(v) ? v.join(', ')
		: typeof v === 'object' && v !== null ? JSON.stringify(v)
		: k === 'window' && typeof v === 'number' ? fmtDuration(v)
		: /(^|_)(time|at|first|last)(_|$)/.test(k) && typeof v === 'number' && v > 1e9 ? fmtTime(v, v > 1e11) : String(v)));
}
const hasEvidence = (ev) => ev && (Array.isArray(ev) ? ev.length > 0 : typeof ev === 'object' && Object.keys(ev).length > 0);

function evidenceItem(ev) {
	if (typeof ev !== 'object' || ev === null) return h('li', {}, String(ev));
	const parts = [];
	const time = ev.time_ms != null ? fmtTime(ev.time_ms, true) : ev.time != null ? fmtTime(ev.time) : '';
	if (time) parts.push(h('time', {}, time));
	for (const k of ['address', 'verdict', 'listener', 'what', 'text', 'reason'])
		if (ev[k]) parts.push(' ', k === 'address' ? h('code', {}, ev[k]) : String(ev[k]));
	if (ev.count) parts.push(` ×${ev.count}`);
	return h('li', {}, parts);
}

/* GET /api/v1/accounts/NAME in a dialog: known networks, recent failures. */
async function accountDetail(name) {
	const body = h('div', { 'aria-live': 'polite' }, t('app.loading'));
	openDialog(t('acc.detailOf', { a: name }), body);
	try {
		const d = await get('/api/v1/accounts/' + encodeURIComponent(name));
		const f = d.failures || {};
		const weak = d.weak_password && d.weak_password.flagged;
		const evRow = (e) => h('li', {}, h('time', {}, fmtTime(e.time_ms, true)), ' ', h('code', {}, e.address || ''),
		    ' ', e.reason || '');
		replace(body, h('dl', { class: 'detail' },
		    h('dt', {}, t('acc.status')), h('dd', {}, d.under_attack ? t('acc.attacked', { t: fmtTime(d.attacked_since) }) : '—'),
		    h('dt', {}, t('acc.failures')), h('dd', {}, String(f.count ?? 0), ' (', t('acc.addresses'), ': ', String(f.addresses ?? 0), ')'),
		    h('dt', {}, t('acc.lastFailure')), h('dd', {}, fmtTime(d.last_failure) || '—'),
		    h('dt', {}, t('acc.lastSuccess')), h('dd', {}, fmtTime(d.last_success) || '—'),
		    h('dt', {}, t('acc.weak')), h('dd', {}, weak ? t('acc.weakYes') : '—')),
		h('h3', {}, t('acc.networks')),
		(d.networks || []).length ? h('ul', {}, d.networks.map((n) => h('li', {}, h('code', {}, n.network), ' — ',
		    t('acc.networkSeen', { n: n.successes, t: fmtTime(n.last_success) })))) : h('p', { class: 'empty' }, t('acc.noNetworks')),
		h('h3', {}, t('acc.recentFailures')),
		(d.recent_failures || []).length ? h('ul', { class: 'evidence' }, d.recent_failures.map(evRow))
		    : h('p', { class: 'empty' }, '—'));
	} catch (e) {
		showError(body, e);
	}
}

export function mount(main) {
	let alive = true, showAcked = false;
	const msg = h('div', { class: 'page-msg', id: 'acc-msg' });
	const alertsBox = h('div', { id: 'alerts' });
	const toggle = h('input', { type: 'checkbox', id: 'acc-show-acked',
		onchange: (e) => { showAcked = e.target.checked; loadAlerts(); } });
	const table = dataTable([
		{ key: 'account', label: () => t('acc.account'), get: accName, class: 'mono',
		  render: (a) => h('button', { type: 'button', class: 'link mono', 'data-action': 'account',
			'aria-label': t('acc.detailOf', { a: accName(a) }), onclick: () => accountDetail(accName(a)) }, accName(a)) },
		{ key: 'failures', label: () => t('acc.failures'), sort: 'num', class: 'num', get: (a) => a.failures ?? 0 },
		{ key: 'addresses', label: () => t('acc.addresses'), sort: 'num', class: 'num',
		  get: (a) => (Array.isArray(a.addresses) ? a.addresses.length : a.addresses ?? 0) },
		{ key: 'last_failure', label: () => t('acc.lastFailure'), sort: 'num', render: (a) => fmtTime(a.last_failure) },
		{ key: 'last_success', label: () => t('acc.lastSuccess'), sort: 'num', render: (a) => fmtTime(a.last_success) || '—' },
		{ key: 'status', label: () => t('acc.status'), get: (a) => (a.under_attack ? 2 : 0) + (a.open_alerts ? 1 : 0),
		  render: (a) => [
			a.under_attack ? h('span', { class: 'badge badge-reject' }, t('acc.attacked', { t: fmtTime(a.attacked_since) })) : null,
			a.open_alerts ? [' ', h('span', { class: 'badge badge-warn' }, t('acc.openAlerts', { n: a.open_alerts }))] : null,
			!a.under_attack && !a.open_alerts ? '—' : null] },
		{ key: 'weak', label: () => t('acc.weak'), get: (a) => (a.weak_password ? 1 : 0),
		  render: (a) => (a.weak_password ? h('span', { class: 'badge badge-reject' }, t('acc.weakYes')) : '—') },
	], { rowKey: accName, sortKey: 'failures', sortDir: -1, pageSize: 25, caption: () => t('acc.underAttack') });
	const accMsg = h('div', { class: 'page-msg' });

	replace(main, pageHeader('acc.title'), msg,
	    section('acc.alerts', h('p', { class: 'help' }, t('acc.alertsHelp')),
		h('div', { class: 'check-field' }, toggle, h('label', { for: 'acc-show-acked' }, t('acc.showAcked'))),
		alertsBox),
	    section('acc.underAttack', accMsg, table.el));

	async function ack(a) {
		try {
			await post('/api/v1/alerts/' + encodeURIComponent(a.id) + '/ack', {});
			flash(msg, 'ok', t('acc.acked') + ': ' + accName(a));
		} catch (e) {
			showError(msg, e);
		}
		loadAlerts();
	}

	async function loadAlerts() {
		try {
			const r = await get('/api/v1/alerts' + qs({ all: showAcked ? 1 : undefined }));
			if (!alive) return;
			const list = (r.alerts || []).filter((a) => showAcked || !isAcked(a));
			if (list.length === 0) { replace(alertsBox, h('p', { class: 'empty' }, t('acc.noAlerts'))); return; }
			replace(alertsBox, h('ul', { class: 'alerts' }, list.map((a) => h('li', {
				class: 'alert' + (isAcked(a) ? ' acked' : ''), 'data-id': a.id },
			    h('div', { class: 'alert-head' },
				h('strong', { class: 'mono' }, accName(a)), ' ',
				a.address ? h('code', {}, a.address) : null, ' ',
				h('time', {}, fmtTime(a.time_ms != null ? a.time_ms : a.time, a.time_ms != null))),
			    h('p', {}, a.kind ? h('span', { class: 'badge badge-reject', title: a.kind },
				hasKey('alert.' + a.kind) ? t('alert.' + a.kind) : a.kind) : null, ' ', a.text || a.reason || ''),
			    hasEvidence(a.evidence) ? h('details', {}, h('summary', {}, t('acc.evidence')),
				h('ul', { class: 'evidence' }, evidenceList(a.evidence))) : null,
			    isAcked(a) ? h('p', { class: 'muted' }, ackedBy(a) ? t('acc.ackedBy', { who: ackedBy(a) }) : t('acc.acked'))
				: h('button', { type: 'button', class: 'small', 'data-action': 'ack',
				    'aria-label': t('acc.ackLabel', { a: accName(a) }), onclick: () => ack(a) }, t('acc.ack'))))));
		} catch (e) {
			if (alive) showError(alertsBox, e, '/api/v1/alerts');
		}
	}

	async function loadAccounts() {
		try {
			const r = await get('/api/v1/accounts');
			if (!alive) return;
			table.setRows(r.accounts || [], t('acc.none'));
		} catch (e) {
			if (alive) showError(accMsg, e, '/api/v1/accounts');
		}
	}

	loadAlerts();
	loadAccounts();
	const stop = every(30000, () => { loadAlerts(); loadAccounts(); });
	return () => { alive = false; stop(); };
}
