// events.js - the live feed: the latest events (GET /api/v1/events), then
// new ones as they come (server-sent events, GET /api/v1/events/stream,
// each "data:" line one event object as in /api/v1/events). Filters apply
// to what is shown; at most MAX_ROWS are kept.

import { h, replace, field } from '../dom.js';
import { t, fmtTime, fmtNum } from '../i18n.js';
import { get, qs } from '../api.js';
import { pageHeader, showError, verdictBadge, section } from './common.js';
import { explain } from './bans.js';

const MAX_ROWS = 500;
const VERDICTS = ['REJECT', 'DEFER', 'DUNNO', 'WARN', 'BAN', 'UNBAN', 'ALLOW_ADD', 'ALLOW_DEL',
	'DENY_ADD', 'DENY_DEL', 'AUTH_FAIL', 'AUTH_OK', 'ALERT'];

export function mount(main) {
	let alive = true, paused = false, es = null, rows = [], pending = [];
	const msg = h('div', { class: 'page-msg' });
	const live = h('p', { class: 'live-state', id: 'ev-live', role: 'status' }, t('ev.connecting'));
	const fAddr = h('input', { type: 'search', id: 'ev-address', autocomplete: 'off', oninput: () => draw() });
	const fVerdict = h('select', { id: 'ev-verdict', onchange: () => draw() },
	    h('option', { value: '' }, t('ev.all')), VERDICTS.map((v) => h('option', { value: v }, `${t('verdict.' + v)} (${v})`)));
	const fListener = h('select', { id: 'ev-listener', onchange: () => draw() },
	    h('option', { value: '' }, t('ev.all')));
	const pause = h('button', { type: 'button', id: 'ev-pause', 'aria-pressed': 'false',
		onclick: () => {
			paused = !paused;
			pause.setAttribute('aria-pressed', String(paused));
			pause.textContent = paused ? t('ev.resume') : t('ev.pause');
			if (!paused) { rows = [...pending, ...rows].slice(0, MAX_ROWS); pending = []; draw(); }
			setLive();
		} }, t('ev.pause'));
	const count = h('p', { class: 'count', id: 'ev-count' });
	const tbody = h('tbody', { id: 'ev-rows' });
	const table = h('div', { class: 'table-wrap' }, h('table', { class: 'events responsive' },
	    h('caption', { class: 'sr-only' }, t('ev.title')),
	    h('thead', {}, h('tr', {}, ['ev.time', 'ev.address', 'ev.listener', 'ev.verdict', 'ev.reason', 'ev.account']
		.map((k) => h('th', { scope: 'col' }, t(k))))), tbody));

	replace(main, pageHeader('ev.title', pause), msg,
	    section('ev.title',
		h('div', { class: 'toolbar' }, field(t('ev.filterAddress'), fAddr),
		    field(t('ev.filterVerdict'), fVerdict), field(t('ev.filterListener'), fListener)),
		live, count, table));

	let liveState = 'connecting';
	function setLive(state) {
		if (state) liveState = state;
		live.textContent = paused ? `${t('ev.paused')} — ${t('ev.new', { n: pending.length })}`
		    : t(liveState === 'open' ? 'ev.connected' : liveState === 'error' ? 'ev.disconnected' : 'ev.connecting');
		live.dataset.state = paused ? 'paused' : liveState;
	}

	const listeners = new Set();
	function noteListener(l) {
		if (!l || listeners.has(l)) return;
		listeners.add(l);
		fListener.appendChild(h('option', { value: l }, l));
	}

	function matches(e) {
		const a = fAddr.value.trim().toLowerCase();
		return (!a || String(e.address || '').toLowerCase().includes(a)) &&
		    (!fVerdict.value || e.verdict === fVerdict.value) &&
		    (!fListener.value || e.listener === fListener.value);
	}

	function row(e) {
		return h('tr', { 'data-verdict': e.verdict },
		    h('td', { 'data-label': t('ev.time') }, h('time', {}, fmtTime(e.time_ms, true))),
		    h('td', { class: 'mono', 'data-label': t('ev.address') }, e.address
			? h('button', { type: 'button', class: 'link mono', 'aria-label': `${t('bans.explain')}: ${e.address}`,
			    onclick: () => explain(e.address) }, e.address) : ''),
		    h('td', { 'data-label': t('ev.listener') }, e.listener || ''),
		    h('td', { 'data-label': t('ev.verdict') }, verdictBadge(e.verdict)),
		    h('td', { class: 'wrap', 'data-label': t('ev.reason') }, e.reason || ''),
		    h('td', { class: 'mono', 'data-label': t('ev.account') }, e.account || ''));
	}

	function draw() {
		const shown = rows.filter(matches);
		if (shown.length === 0) replace(tbody, h('tr', {}, h('td', { colspan: '6', class: 'empty' }, t('ev.empty'))));
		else replace(tbody, shown.map(row));
		count.textContent = t('ev.count', { n: fmtNum(shown.length) });
	}

	function add(e) {
		noteListener(e.listener);
		if (paused) { pending.unshift(e); setLive(); return; }
		rows.unshift(e);
		if (rows.length > MAX_ROWS) rows.length = MAX_ROWS;
		if (matches(e)) {
			if (tbody.querySelector('td.empty')) replace(tbody);
			tbody.insertBefore(row(e), tbody.firstChild);
			while (tbody.children.length > MAX_ROWS) tbody.lastChild.remove();
			count.textContent = t('ev.count', { n: fmtNum(tbody.children.length) });
		}
	}

	function connect() {
		es = new EventSource('/api/v1/events/stream', { withCredentials: true });
		es.onopen = () => setLive('open');
		es.onerror = () => {
			if (!alive) return;
			setLive('error');
			// CLOSED: the server refused the stream (e.g. the session
			// ended); asking for the session shows the login page on 401
			if (es.readyState === EventSource.CLOSED) {
				get('/api/v1/session').then(() => setTimeout(() => { if (alive) connect(); }, 5000), () => {});
			}
		};
		const onData = (m) => {
			try { add(JSON.parse(m.data)); } catch (err) { /* not an event */ }
		};
		es.onmessage = onData;
		es.addEventListener('event', onData);
	}

	(async () => {
		try {
			const r = await get('/api/v1/events' + qs({ limit: 200 }));
			if (!alive) return;
			rows = r.events || [];
			rows.forEach((e) => noteListener(e.listener));
			draw();
		} catch (e) {
			if (!alive) return;
			showError(msg, e, '/api/v1/events');
		}
		if (alive) connect();
	})();
	return () => { alive = false; if (es) es.close(); };
}
