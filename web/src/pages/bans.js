// bans.js - the blocked addresses: GET /api/v1/bans, searchable, sortable,
// paged; unblock one or many (DELETE /api/v1/bans?address=); block by hand
// (POST /api/v1/bans); explain any address (GET /api/v1/check?address=).

import { h, replace, field, id } from '../dom.js';
import { t, fmtTime, fmtNum, fmtDuration, errorText } from '../i18n.js';
import { get, post, del, qs } from '../api.js';
import { pageHeader, showError, flash, sourceLabel, verdictBadge, section, every } from './common.js';
import { dataTable } from '../table.js';
import { isValidNet } from '../ip.js';

const SOURCES = ['manual', 'dnsbl', 'login', 'logwatch'];
const DURATIONS = ['1h', '1d', '7d', '30d', 'permanent'];

/* The explanation of GET /api/v1/check, as `mailward check` prints it. */
export function explainView(r) {
	const steps = (r.steps || []).map((s) => {
		let state, detail = [];
		if (s.step === 'dnsbl') {
			if (s.checked === false) { state = t('explain.notChecked'); detail.push(s.why || ''); }
			else {
				state = t('explain.score', { s: s.score ?? 0, t: s.threshold ?? '?' });
				for (const z of s.zones || [])
					detail.push(`${z.zone}: ${z.status}${z.answers && z.answers.length ? ' ' + z.answers.join(',') : ''}${z.class ? ' (' + z.class + ')' : ''}`);
				if (s.degraded) detail.push('degraded');
			}
		} else if (s.matched) {
			state = t('explain.matched');
			if (s.network) detail.push(s.network + (s.comment ? ' — ' + s.comment : '') + (s.origin ? ' [' + s.origin + ']' : ''));
			if (s.ban) detail.push(`${s.ban.address} — ${s.ban.reason || ''} (${sourceLabel(s.ban.source)}, ${s.ban.expires ? fmtTime(s.ban.expires) : t('bans.permanent')})`);
		} else state = s.checked === false ? t('explain.notChecked') : t('explain.notMatched');
		const key = 'explain.step.' + s.step;
		return h('li', { class: s.matched ? 'step matched' : 'step' },
		    h('strong', {}, t(key) === key ? s.step : t(key)), ': ', state,
		    detail.length ? h('ul', {}, detail.map((d) => h('li', {}, d))) : null);
	});
	return h('div', { class: 'explain' },
	    h('dl', {},
		h('dt', {}, t('explain.verdict')), h('dd', { class: 'explain-verdict' }, verdictBadge(r.verdict), ' ', r.verdict),
		h('dt', {}, t('explain.decidedBy')), h('dd', {}, r.decided_by || '—'),
		r.status ? [h('dt', {}, t('explain.reply')), h('dd', {}, h('code', {}, `${r.status} ${r.text || ''}`))] : null,
		r.reason ? [h('dt', {}, t('explain.reason')), h('dd', {}, r.reason)] : null),
	    h('h3', {}, t('explain.steps')), h('ol', { class: 'steps' }, steps),
	    r.login ? [h('h3', {}, t('explain.login')), h('p', { class: 'explain-login' },
		t('explain.loginText', { f: r.login.failures ?? 0, a: r.login.accounts ?? 0,
		    w: fmtDuration(r.login.window ?? 0), n: r.login.network || '—', nf: r.login.network_failures ?? 0 }),
		r.login.escalation ? [' ', t('explain.escalation', { b: r.login.escalation.bans ?? 0, l: r.login.escalation.level ?? 0 })] : null)]
		: null);
}

/* A modal <dialog> (Esc closes it, focus returns to the opener). */
export function openDialog(title, body) {
	const opener = document.activeElement;
	const hid = id('dlg');
	const dlg = h('dialog', { class: 'dialog', 'aria-labelledby': hid },
	    h('div', { class: 'dialog-head' }, h('h2', { id: hid }, title),
		h('button', { type: 'button', class: 'close', onclick: () => dlg.close() }, t('bans.close'))),
	    h('div', { class: 'dialog-body' }, body));
	dlg.addEventListener('close', () => { dlg.remove(); if (opener && opener.focus) opener.focus(); });
	document.body.appendChild(dlg);
	dlg.showModal();
	return dlg;
}

export async function explain(address) {
	const body = h('div', { 'aria-live': 'polite' }, t('app.loading'));
	openDialog(t('bans.explainTitle', { a: address }), body);
	try {
		replace(body, explainView(await get('/api/v1/check' + qs({ address }))));
	} catch (e) {
		showError(body, e);
	}
}

export function mount(main) {
	let alive = true, all = [];
	const msg = h('div', { class: 'page-msg', id: 'bans-msg' });
	const search = h('input', { type: 'search', id: 'bans-search', autocomplete: 'off',
		oninput: () => apply() });
	const source = h('select', { id: 'bans-source', onchange: () => load() },
	    h('option', { value: '' }, t('bans.source.all')),
	    SOURCES.map((s) => h('option', { value: s }, sourceLabel(s))));
	const pageSize = h('select', { id: 'bans-pagesize', onchange: () => table.setPageSize(Number(pageSize.value)) },
	    [10, 25, 50, 100].map((n) => h('option', { value: n, selected: n === 25 }, String(n))));
	const count = h('p', { class: 'count', id: 'bans-count', 'aria-live': 'polite' });
	const unblockSel = h('button', { type: 'button', id: 'bans-unblock-selected', disabled: true,
		onclick: () => unblock(table.selected()) }, t('bans.unblockSelected', { n: 0 }));

	const table = dataTable([
		{ key: 'address', label: () => t('bans.address'), class: 'mono' },
		{ key: 'source', label: () => t('bans.source'), render: (b) => sourceLabel(b.source) },
		{ key: 'reason', label: () => t('bans.reason'), class: 'wrap' },
		{ key: 'first_seen', label: () => t('bans.firstSeen'), sort: 'num', render: (b) => fmtTime(b.first_seen) },
		{ key: 'last_seen', label: () => t('bans.lastSeen'), sort: 'num', render: (b) => fmtTime(b.last_seen) },
		{ key: 'hits', label: () => t('bans.hits'), sort: 'num', class: 'num', get: (b) => b.hits ?? 0 },
		{ key: 'expires', label: () => t('bans.expires'), sort: 'num',
		  render: (b) => (b.expires == null ? t('bans.permanent') : fmtTime(b.expires)) },
		{ key: 'country', label: () => t('bans.country'), get: (b) => b.country || '',
		  hidden: (rows) => !rows.some((b) => b.country) },
		{ key: 'actions', label: () => t('bans.actions'), sort: false, class: 'actions',
		  render: (b) => [
			h('button', { type: 'button', class: 'small', 'data-action': 'explain',
			    'aria-label': `${t('bans.explain')}: ${b.address}`, onclick: () => explain(b.address.split('/')[0]) },
			    t('bans.explain')),
			h('button', { type: 'button', class: 'small danger', 'data-action': 'unblock',
			    'aria-label': `${t('bans.unblock')}: ${b.address}`, onclick: () => unblock([b.address]) },
			    t('bans.unblock'))] },
	], {
		rowKey: (b) => b.address, selectable: true,
		selectLabel: (b) => t('bans.select', { a: b.address }),
		sortKey: 'last_seen', sortDir: -1, pageSize: 25,
		caption: () => t('bans.title'),
		onSelect: (keys) => {
			unblockSel.disabled = keys.length === 0;
			unblockSel.textContent = t('bans.unblockSelected', { n: keys.length });
		},
	});

	// block by hand
	const addAddr = h('input', { id: 'ban-address', name: 'address', required: true,
		autocomplete: 'off', spellcheck: 'false', inputmode: 'text' });
	const customDur = h('input', { id: 'ban-duration-custom', name: 'duration-custom', autocomplete: 'off',
		spellcheck: 'false', placeholder: '90m', hidden: true });
	const addDur = h('select', { id: 'ban-duration', name: 'duration', onchange: () => {
		customDur.hidden = addDur.value !== 'custom';
		if (!customDur.hidden) customDur.focus();
	} }, DURATIONS.map((d) => h('option', { value: d, selected: d === '1d' }, t('bans.dur.' + d))),
	    h('option', { value: 'custom' }, t('bans.dur.custom')));
	const addReason = h('input', { id: 'ban-reason', name: 'reason', maxlength: '512', autocomplete: 'off' });
	const addMsg = h('div', { class: 'form-msg', id: 'ban-add-msg' });
	const addForm = h('form', { class: 'inline-form', id: 'ban-add-form', novalidate: true,
		onsubmit: async (e) => {
			e.preventDefault();
			const a = addAddr.value.trim();
			if (!isValidNet(a)) {
				addAddr.setAttribute('aria-invalid', 'true');
				flash(addMsg, 'error', t('bans.invalidAddress', { a }));
				addAddr.focus();
				return;
			}
			addAddr.removeAttribute('aria-invalid');
			let duration = addDur.value;
			if (duration === 'custom') {
				duration = customDur.value.trim();
				// 90s, 15m, 2h, 7d, 1w or seconds; the daemon checks the range
				if (!/^\d{1,9}[smhdw]?$/.test(duration)) {
					customDur.setAttribute('aria-invalid', 'true');
					flash(addMsg, 'error', t('bans.invalidDuration', { d: duration }));
					customDur.focus();
					return;
				}
				customDur.removeAttribute('aria-invalid');
				if (/^\d+$/.test(duration)) duration = Number(duration);
			}
			const body = { address: a, duration };
			if (addReason.value.trim()) body.reason = addReason.value.trim();
			try {
				const r = await post('/api/v1/bans', body);
				flash(addMsg, 'ok', t('bans.added', { a: (r.ban && r.ban.address) || a }));
				addAddr.value = ''; addReason.value = '';
				load();
			} catch (err) {
				if (err.status === 400) addAddr.setAttribute('aria-invalid', 'true');
				showError(addMsg, err);
			}
		},
	},
	field(t('bans.addAddress'), addAddr, t('bans.addressHelp')),
	h('div', { class: 'field' }, h('label', { for: 'ban-duration' }, t('bans.addDuration')), addDur,
	    h('label', { for: 'ban-duration-custom', class: 'sr-only' }, t('bans.dur.customLabel')), customDur),
	field(t('bans.addReason'), addReason),
	h('div', { class: 'field field-button' }, h('button', { type: 'submit', class: 'primary' }, t('bans.addSubmit'))),
	addMsg);

	// explain any address
	const chkAddr = h('input', { id: 'check-address', autocomplete: 'off', spellcheck: 'false' });
	const chkForm = h('form', { class: 'inline-form', id: 'check-form', novalidate: true,
		onsubmit: (e) => { e.preventDefault(); if (chkAddr.value.trim()) explain(chkAddr.value.trim()); } },
	field(t('bans.address'), chkAddr),
	h('div', { class: 'field field-button' }, h('button', { type: 'submit' }, t('explain.checkSubmit'))));

	replace(main, pageHeader('bans.title'), msg,
	    section('bans.title',
		h('div', { class: 'toolbar' },
		    field(t('bans.search'), search), field(t('bans.source'), source),
		    field(t('bans.pageSize'), pageSize), unblockSel),
		count, table.el),
	    h('div', { class: 'two-col' }, section('bans.add', addForm), section('explain.check', chkForm)));

	function apply() {
		const q = search.value.trim().toLowerCase();
		const rows = q ? all.filter((b) => [b.address, b.reason, b.source, sourceLabel(b.source), b.country]
		    .some((x) => x && String(x).toLowerCase().includes(q))) : all;
		table.setRows(rows, all.length ? t('bans.noMatch') : t('bans.empty'));
		count.textContent = t('bans.count', { n: fmtNum(all.length), shown: fmtNum(rows.length) });
	}

	async function load() {
		try {
			const r = await get('/api/v1/bans' + qs({ source: source.value, limit: 100000 }));
			if (!alive) return;
			all = r.bans || [];
			apply();
		} catch (e) {
			if (alive) showError(msg, e, '/api/v1/bans');
		}
	}

	async function unblock(addrs) {
		const failed = [];
		let done = 0;
		for (const a of addrs) {
			try { await del('/api/v1/bans' + qs({ address: a })); done++; } catch (e) { failed.push(`${a}: ${errorText(e)}`); }
		}
		table.clearSelection();
		if (failed.length) flash(msg, 'error', failed.join('; '));
		else flash(msg, 'ok', t('bans.unblocked', { n: done }));
		await load();
	}

	load();
	const stop = every(30000, load);
	return () => { alive = false; stop(); };
}
