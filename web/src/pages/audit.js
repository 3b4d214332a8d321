// audit.js - who changed what, when, from where (GET /api/v1/audit).

import { h, replace, field } from '../dom.js';
import { t, fmtTime, hasKey } from '../i18n.js';
import { get, qs } from '../api.js';
import { pageHeader, showError, section } from './common.js';
import { dataTable } from '../table.js';

const timeOf = (e) => (e.time_ms != null ? e.time_ms / 1000 : e.time);

export function mount(main) {
	let alive = true, all = [];
	const msg = h('div', { class: 'page-msg' });
	const search = h('input', { type: 'search', id: 'audit-search', autocomplete: 'off', oninput: () => apply() });
	const table = dataTable([
		{ key: 'time', label: () => t('audit.time'), sort: 'num', get: timeOf, render: (e) => fmtTime(timeOf(e)) },
		{ key: 'admin', label: () => t('audit.admin'), get: (e) => e.actor ?? e.admin ?? '' },
		{ key: 'action', label: () => t('audit.action'),
		  render: (e) => { const k = 'action.' + e.action; return h('span', { title: e.action }, hasKey(k) ? t(k) : e.action); } },
		{ key: 'target', label: () => t('audit.target'), class: 'mono', get: (e) => e.target ?? e.object ?? '' },
		{ key: 'from', label: () => t('audit.from'), class: 'mono', get: (e) => e.origin ?? e.peer ?? '' },
		{ key: 'detail', label: () => t('audit.detail'), class: 'wrap', get: (e) => e.detail ?? '' },
	], { sortKey: 'time', sortDir: -1, pageSize: 50, caption: () => t('audit.title') });

	replace(main, pageHeader('audit.title'), msg,
	    section('audit.title', h('p', { class: 'help' }, t('audit.help')),
		h('div', { class: 'toolbar' }, field(t('audit.search'), search)), table.el));

	function apply() {
		const q = search.value.trim().toLowerCase();
		table.setRows(q ? all.filter((e) => (JSON.stringify(e) + ' ' + t('action.' + e.action)).toLowerCase().includes(q)) : all,
		    all.length ? t('audit.noMatch') : t('audit.empty'));
	}

	(async () => {
		try {
			const r = await get('/api/v1/audit' + qs({ limit: 1000 }));
			if (!alive) return;
			all = r.entries || r.audit || [];
			apply();
		} catch (e) {
			if (alive) showError(msg, e, '/api/v1/audit');
		}
	})();
	return () => { alive = false; };
}
