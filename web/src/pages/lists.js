// lists.js - allow and deny lists: GET/POST/DELETE /api/v1/lists/LIST.
// "Live traffic": the events of the last hour (GET /api/v1/events?since=)
// whose address lies in an entry's network are counted per entry
// (docs/dashboard-ui.md says so too).

import { h, replace, field } from '../dom.js';
import { t, fmtTime, fmtNum } from '../i18n.js';
import { get, post, del, qs } from '../api.js';
import { pageHeader, showError, flash, section, every } from './common.js';
import { dataTable } from '../table.js';
import { isValidNet, parseNet, contains } from '../ip.js';

let which = 'allow';

export function liveCounts(entries, events) {
	const nets = entries.map((e) => parseNet(e.network));
	const counts = new Map(entries.map((e) => [e.network, 0]));
	for (const ev of events) {
		const a = parseNet(ev.address || '');
		if (!a) continue;
		const n = ev.count || 1;
		entries.forEach((e, i) => { if (contains(nets[i], a)) counts.set(e.network, counts.get(e.network) + n); });
	}
	return counts;
}

export function mount(main) {
	let alive = true, entries = [], live = new Map();
	const msg = h('div', { class: 'page-msg', id: 'lists-msg' });
	const tabs = h('div', { class: 'tabs', role: 'tablist', 'aria-label': t('lists.title') });
	const panel = h('div', { role: 'tabpanel', id: 'lists-panel', class: 'tabpanel' });
	const help = h('p', { class: 'help', id: 'lists-help' });
	const search = h('input', { type: 'search', id: 'lists-search', autocomplete: 'off', oninput: () => apply() });

	const table = dataTable([
		{ key: 'network', label: () => t('lists.network'), class: 'mono' },
		{ key: 'comment', label: () => t('lists.comment'), class: 'wrap' },
		{ key: 'created', label: () => t('lists.created'), sort: 'num', render: (e) => fmtTime(e.created) },
		{ key: 'origin', label: () => t('lists.origin'), render: (e) => t('lists.origin.' + e.origin) },
		{ key: 'live', label: () => t('lists.live'), sort: 'num', class: 'num', get: (e) => live.get(e.network) || 0,
		  render: (e) => { const n = live.get(e.network) || 0;
			return h('span', { class: n ? 'live live-on' : 'live', 'data-live': n },
			    n ? t('lists.liveCount', { n: fmtNum(n) }) : t('lists.liveNone')); } },
		{ key: 'actions', label: () => t('bans.actions'), sort: false, class: 'actions',
		  render: (e) => (e.origin === 'config'
		    ? h('span', { class: 'muted' }, t('lists.configEntry'))
		    : h('button', { type: 'button', class: 'small danger', 'data-action': 'remove',
			'aria-label': t('lists.removeLabel', { n: e.network }), onclick: () => remove(e.network) },
			t('lists.remove'))) },
	], { rowKey: (e) => e.network, sortKey: 'network', pageSize: 50, caption: () => t('lists.' + which) });

	const net = h('input', { id: 'list-network', name: 'network', required: true, autocomplete: 'off', spellcheck: 'false' });
	const comment = h('input', { id: 'list-comment', name: 'comment', maxlength: '512', autocomplete: 'off' });
	const addMsg = h('div', { class: 'form-msg', id: 'list-add-msg' });
	const addForm = h('form', { class: 'inline-form', id: 'list-add-form', novalidate: true,
		onsubmit: async (e) => {
			e.preventDefault();
			const n = net.value.trim();
			if (!isValidNet(n)) {
				net.setAttribute('aria-invalid', 'true');
				flash(addMsg, 'error', t('bans.invalidAddress', { a: n }));
				net.focus();
				return;
			}
			net.removeAttribute('aria-invalid');
			const body = { network: n };
			if (comment.value.trim()) body.comment = comment.value.trim();
			try {
				const r = await post('/api/v1/lists/' + which, body);
				flash(addMsg, 'ok', t('lists.added', { n: (r.entry && r.entry.network) || n, list: t('lists.' + which) }));
				net.value = ''; comment.value = '';
				load();
			} catch (err) {
				if (err.status === 400) net.setAttribute('aria-invalid', 'true');
				showError(addMsg, err);
			}
		},
	},
	field(t('lists.addNetwork'), net, t('bans.addressHelp')),
	field(t('lists.addComment'), comment),
	h('div', { class: 'field field-button' }, h('button', { type: 'submit', class: 'primary', id: 'list-add-submit' }, t('lists.addSubmit'))),
	addMsg);

	function drawTabs(focus) {
		replace(tabs, ['allow', 'deny'].map((l) => h('button', {
			type: 'button', role: 'tab', id: 'tab-' + l, 'aria-controls': 'lists-panel',
			'aria-selected': l === which ? 'true' : 'false', tabindex: l === which ? '0' : '-1',
			onclick: () => select(l, false),
			onkeydown: (e) => {
				if (['ArrowLeft', 'ArrowRight'].includes(e.key)) {
					e.preventDefault(); select(which === 'allow' ? 'deny' : 'allow', true);
				}
			},
		}, t('lists.' + l))));
		panel.setAttribute('aria-labelledby', 'tab-' + which);
		help.textContent = t(which === 'allow' ? 'lists.allowHelp' : 'lists.denyHelp');
		if (focus) tabs.querySelector('[aria-selected=true]').focus();
	}

	function select(l, focus) {
		which = l;
		drawTabs(focus);
		replace(addMsg);
		load();
	}

	replace(main, pageHeader('lists.title'), msg, tabs,
	    replace(panel, help,
		section('lists.add', addForm),
		h('section', { class: 'card', 'aria-label': t('lists.title') },
		    h('div', { class: 'toolbar' }, field(t('lists.search'), search)),
		    h('p', { class: 'help' }, t('lists.liveHelp')),
		    table.el)));
	drawTabs(false);

	function apply() {
		const q = search.value.trim().toLowerCase();
		const rows = q ? entries.filter((e) => [e.network, e.comment].some((x) => x && x.toLowerCase().includes(q))) : entries;
		table.setRows(rows, entries.length ? t('lists.noMatch') : t('lists.empty'));
	}

	async function load() {
		const l = which;
		try {
			const since = Math.floor(Date.now() / 1000) - 3600;
			const [r, ev] = await Promise.all([
				get('/api/v1/lists/' + l),
				get('/api/v1/events' + qs({ since, limit: 10000 })).catch(() => ({ events: [] })),
			]);
			if (!alive || l !== which) return;
			entries = r.entries || [];
			live = liveCounts(entries, ev.events || []);
			replace(msg);
			apply();
		} catch (e) {
			if (alive) showError(msg, e, '/api/v1/lists/' + l);
		}
	}

	async function remove(n) {
		try {
			await del('/api/v1/lists/' + which + qs({ network: n }));
			flash(msg, 'ok', t('lists.removed', { n }));
		} catch (e) {
			showError(msg, e);
		}
		load();
	}

	load();
	const stop = every(30000, load);
	return () => { alive = false; stop(); };
}
