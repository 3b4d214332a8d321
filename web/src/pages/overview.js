// overview.js - counts now and over time (GET /api/v1/stats?range=...),
// plotted with uPlot, the top attackers and targets, and the daemon's status.

import uPlot from 'uplot';
import { h, replace, id } from '../dom.js';
import { t, fmtNum, getLang, fmtDuration, fmtTime } from '../i18n.js';
import { get, qs } from '../api.js';
import { pageHeader, showError, section, every } from './common.js';

const RANGES = ['hour', 'day', 'week'];
// the API's names for them (GET /api/v1/stats?range=)
const RANGE_PARAM = { hour: '1h', day: '24h', week: '7d' };
const SERIES = [
	{ key: 'refused', label: 'ov.refused', color: '#c0392b' },
	{ key: 'login_failures', label: 'ov.loginFailures', color: '#d68910' },
	{ key: 'bans', label: 'ov.bansStarted', color: '#1d4e89' },
	{ key: 'alerts', label: 'ov.alerts', color: '#7d3c98' },
];
// Names the stats answer may use for each series (docs/dashboard-ui.md).
const ALIASES = {
	refused: ['refused', 'connections_refused', 'rejects'],
	login_failures: ['login_failures', 'auth_failures'],
	bans: ['bans', 'bans_started'],
	alerts: ['alerts'],
};
let range = 'hour';

/* The stats answer as {time:[sec...], refused:[...], ...}: accepts columns
   ({"series":{"time":[..],"refused":[..]}}) or rows ([{"time":..}, ...]). */
export function columns(stats) {
	let s = stats.series || stats.points || [];
	const out = { time: [] };
	for (const k of Object.keys(ALIASES)) out[k] = [];
	const pick = (obj, k) => {
		for (const a of ALIASES[k]) if (obj && a in obj) return obj[a];
		return undefined;
	};
	if (Array.isArray(s)) {
		for (const p of s) {
			out.time.push(p.time ?? p.t ?? p.start);
			for (const k of Object.keys(ALIASES)) out[k].push(pick(p, k) ?? 0);
		}
	} else {
		out.time = (stats.buckets || s.time || s.t || []).slice();
		for (const k of Object.keys(ALIASES)) {
			const col = pick(s, k);
			out[k] = col ? col.slice() : out.time.map(() => 0);
		}
	}
	// milliseconds -> seconds (uPlot's time axis is in seconds)
	if (out.time.length && out.time[0] > 1e11) out.time = out.time.map((x) => x / 1000);
	return out;
}

function axisFormatter() {
	const opts = range === 'week'
	    ? { month: 'numeric', day: 'numeric', hour: '2-digit' }
	    : { hour: '2-digit', minute: '2-digit' };
	const f = new Intl.DateTimeFormat(getLang() === 'ja' ? 'ja-JP' : 'en-GB', opts);
	return (u, splits) => splits.map((v) => (v == null ? '' : f.format(new Date(v * 1000))));
}

const KEY_LABEL = { address: 'bans.address', network: 'lists.network', country: 'bans.country', account: 'acc.account' };

function topTable(titleKey, rows, keyName, emptyKey) {
	const list = (rows || []).slice(0, 10);
	const body = list.length === 0 ? h('p', { class: 'empty' }, t(emptyKey || 'ov.none'))
	    : h('div', { class: 'table-wrap' }, h('table', { class: 'top-table' },
		h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t(KEY_LABEL[keyName])),
		    h('th', { scope: 'col', class: 'num' }, t('ov.count')))),
		h('tbody', {}, list.map((r) => h('tr', {},
		    h('td', {}, String(r[keyName] ?? r.key ?? r.name ?? r.value ?? '?')),
		    h('td', { class: 'num' }, fmtNum(r.count ?? r.hits ?? 0)))))));
	return section(titleKey, body);
}

export function mount(main) {
	let plot = null, alive = true;
	const status = h('div', { class: 'status-line', id: 'ov-status' });
	const cards = h('div', { class: 'cards', id: 'ov-cards' });
	const chartBox = h('div', { class: 'chart', id: 'ov-chart', role: 'img', 'aria-label': t('ov.chartLabel') });
	const tops = h('div', { class: 'tops', id: 'ov-tops' });
	const err = h('div', { class: 'page-msg' });
	const rid = id('range');
	const rangeSel = h('div', { class: 'segmented', role: 'radiogroup', 'aria-labelledby': rid },
	    h('span', { id: rid, class: 'seg-label' }, t('ov.range')),
	    RANGES.map((r) => h('button', {
		type: 'button', role: 'radio', 'aria-checked': r === range ? 'true' : 'false',
		'data-range': r, tabindex: r === range ? '0' : '-1',
		onclick: () => { range = r; load(true); },
		onkeydown: (e) => {
			const i = RANGES.indexOf(range);
			let n = null;
			if (e.key === 'ArrowRight' || e.key === 'ArrowDown') n = RANGES[(i + 1) % RANGES.length];
			if (e.key === 'ArrowLeft' || e.key === 'ArrowUp') n = RANGES[(i + RANGES.length - 1) % RANGES.length];
			if (n) { e.preventDefault(); range = n; load(true); }
		},
	    }, t('ov.range.' + r))));

	replace(main, pageHeader('ov.title', rangeSel), err, status, cards,
	    section('ov.chart', chartBox), tops);

	function syncRange(focus) {
		for (const b of rangeSel.querySelectorAll('button')) {
			const on = b.dataset.range === range;
			b.setAttribute('aria-checked', on ? 'true' : 'false');
			b.tabIndex = on ? 0 : -1;
			if (on && focus) b.focus();
		}
	}

	function drawChart(cols) {
		const width = Math.max(280, chartBox.clientWidth || 600);
		const height = width < 500 ? 220 : 300;
		const data = [cols.time, ...SERIES.map((s) => cols[s.key])];
		if (plot) plot.destroy();
		replace(chartBox);
		plot = new uPlot({
			width, height,
			cursor: { drag: { x: false, y: false } },
			scales: { x: { time: true }, y: { range: (u, min, max) => [0, Math.max(4, max)] } },
			axes: [{ values: axisFormatter(), stroke: '#444' }, { stroke: '#444' }],
			series: [{ label: t('ev.time'), value: (u, v) => (v == null ? '' : fmtTime(v)) },
			    ...SERIES.map((s) => ({ label: t(s.label), stroke: s.color, width: 2,
				fill: s.color + '14', points: { show: false } }))],
		}, data, chartBox);
	}

	async function load(focus) {
		syncRange(focus);
		try {
			const [stats, st] = await Promise.all([
				get('/api/v1/stats' + qs({ range: RANGE_PARAM[range] })),
				get('/api/v1/status').catch(() => null),
			]);
			if (!alive) return;
			replace(err);
			const cols = columns(stats);
			replace(cards, SERIES.map((s) => {
				const col = cols[s.key];
				const totals = stats.totals || {};
				const total = typeof totals[s.key] === 'number' ? totals[s.key]
				    : col.reduce((a, b) => a + (b || 0), 0);
				const last = col.length ? col[col.length - 1] || 0 : 0;
				return h('div', { class: 'stat stat-' + s.key, 'data-series': s.key },
				    h('div', { class: 'stat-label' }, t(s.label)),
				    h('div', { class: 'stat-value' }, fmtNum(total)),
				    h('div', { class: 'stat-sub' }, t('ov.inRange'), ' · ', t('ov.now', { n: fmtNum(last) })));
			}));
			drawChart(cols);
			const top = stats.top || stats.tops || {};
			replace(tops,
			    topTable('ov.topAddresses', top.addresses, 'address'),
			    topTable('ov.topNetworks', top.networks, 'network'),
			    topTable('ov.topCountries', top.countries, 'country', 'ov.noCountries'),
			    topTable('ov.topAccounts', top.accounts, 'account'));
			if (st) {
				const e = st.engine || {};
				replace(status, h('p', {},
				    h('strong', {}, t('ov.status'), ': '),
				    t('ov.version', { v: st.version, up: fmtDuration(st.uptime || 0) }), ' · ',
				    t('ov.activeBans', { n: fmtNum(e.bans_active) }), ' · ',
				    t('ov.lists', { a: fmtNum(e.allow_entries), d: fmtNum(e.deny_entries) })));
			}
		} catch (e) {
			if (alive) showError(err, e, '/api/v1/stats');
		}
	}

	const onResize = () => { if (plot) plot.setSize({ width: Math.max(280, chartBox.clientWidth), height: chartBox.clientWidth < 500 ? 220 : 300 }); };
	window.addEventListener('resize', onResize);
	load(false);
	const stop = every(30000, () => load(false));
	return () => {
		alive = false;
		stop();
		window.removeEventListener('resize', onResize);
		if (plot) plot.destroy();
	};
}
