// table.js - one accessible data table: sortable columns (buttons in the
// headers, aria-sort), optional row checkboxes, client-side paging. Rows
// are plain objects; columns say how to read, compare and render a cell.

import { h, replace } from './dom.js';
import { t, fmtNum } from './i18n.js';

/*
 * columns: [{key, label, get?(row), render?(row), sort?: 'num'|'str'|false, class?}]
 * opts: {rowKey(row), selectable, selectLabel(row), pageSize, empty, caption,
 *        onSelect(keys)}
 * Returns {el, setRows(rows, emptyText), selected(), clearSelection()}.
 */
export function dataTable(allColumns, opts) {
	const state = {
		rows: [], sortKey: opts.sortKey || null, sortDir: opts.sortDir || 1,
		page: 0, pageSize: opts.pageSize || 25, sel: new Set(), empty: opts.empty,
	};
	const wrap = h('div', { class: 'table-wrap' });
	const pager = h('div', { class: 'pager' });
	const el = h('div', { class: 'table-block' }, wrap, pager);

	const value = (c, r) => (c.get ? c.get(r) : r[c.key]);

	function sorted() {
		const c = allColumns.find((x) => x.key === state.sortKey);
		if (!c) return state.rows;
		const num = c.sort === 'num';
		return [...state.rows].sort((a, b) => {
			let x = value(c, a), y = value(c, b);
			if (num) {
				x = x ?? Infinity; y = y ?? Infinity;
				return (x - y) * state.sortDir;
			}
			return String(x ?? '').localeCompare(String(y ?? ''), undefined,
			    { numeric: true }) * state.sortDir;
		});
	}

	function render() {
		const rows = sorted();
		// a column may hide itself for these rows (e.g. country when no row has one)
		const columns = allColumns.filter((c) => !c.hidden || !c.hidden(state.rows));
		const pages = Math.max(1, Math.ceil(rows.length / state.pageSize));
		if (state.page >= pages) state.page = pages - 1;
		const start = state.page * state.pageSize;
		const pageRows = rows.slice(start, start + state.pageSize);

		const head = h('tr');
		if (opts.selectable) {
			const all = h('input', {
				type: 'checkbox', 'aria-label': t('bans.selectAll'),
				checked: pageRows.length > 0 && pageRows.every((r) => state.sel.has(opts.rowKey(r))),
				onchange: (e) => {
					for (const r of pageRows) {
						if (e.target.checked) state.sel.add(opts.rowKey(r));
						else state.sel.delete(opts.rowKey(r));
					}
					render();
					opts.onSelect?.([...state.sel]);
				},
			});
			head.appendChild(h('th', { scope: 'col', class: 'col-check' }, all));
		}
		for (const c of columns) {
			if (c.sort === false) {
				head.appendChild(h('th', { scope: 'col', class: c.class }, c.label()));
				continue;
			}
			const active = state.sortKey === c.key;
			head.appendChild(h('th', {
				scope: 'col', class: c.class,
				'aria-sort': active ? (state.sortDir > 0 ? 'ascending' : 'descending') : 'none',
			}, h('button', {
				type: 'button', class: 'sort',
				'data-col': c.key,
				title: t('bans.sortBy', { col: c.label() }),
				onclick: () => {
					if (state.sortKey === c.key) state.sortDir = -state.sortDir;
					else { state.sortKey = c.key; state.sortDir = c.sort === 'num' ? -1 : 1; }
					render();
				},
			}, c.label(), h('span', { class: 'sort-mark', 'aria-hidden': 'true' },
			    active ? (state.sortDir > 0 ? '▲' : '▼') : '↕'))));
		}
		const body = h('tbody');
		for (const r of pageRows) {
			const tr = h('tr');
			if (opts.selectable) {
				const k = opts.rowKey(r);
				tr.appendChild(h('td', { class: 'col-check' }, h('input', {
					type: 'checkbox', checked: state.sel.has(k),
					'aria-label': opts.selectLabel(r), 'data-key': k,
					onchange: (e) => {
						if (e.target.checked) state.sel.add(k); else state.sel.delete(k);
						opts.onSelect?.([...state.sel]);
					},
				})));
			}
			for (const c of columns) {
				const v = c.render ? c.render(r) : value(c, r);
				tr.appendChild(h('td', { class: c.class, 'data-label': c.label() },
				    c.sort === 'num' && typeof v === 'number' ? fmtNum(v) : v));
			}
			if (opts.rowKey) tr.dataset.key = opts.rowKey(r);
			body.appendChild(tr);
		}
		const table = h('table', { class: 'responsive' },
		    opts.caption ? h('caption', { class: 'sr-only' }, opts.caption()) : null,
		    h('thead', {}, head), body);
		if (rows.length === 0)
			replace(wrap, h('p', { class: 'empty' }, state.empty || ''));
		else
			replace(wrap, table);

		if (rows.length <= state.pageSize) { replace(pager); return; }
		replace(pager,
		    h('button', { type: 'button', disabled: state.page === 0,
			onclick: () => { state.page--; render(); } }, '‹ ', t('bans.prev')),
		    h('span', { 'aria-live': 'polite' }, t('bans.page', { p: state.page + 1, n: pages })),
		    h('button', { type: 'button', disabled: state.page >= pages - 1,
			onclick: () => { state.page++; render(); } }, t('bans.next'), ' ›'));
	}

	return {
		el,
		setRows(rows, emptyText) {
			state.rows = rows;
			if (emptyText !== undefined) state.empty = emptyText;
			const keys = new Set(opts.rowKey ? rows.map(opts.rowKey) : []);
			for (const k of [...state.sel]) if (!keys.has(k)) state.sel.delete(k);
			render();
			opts.onSelect?.([...state.sel]);
		},
		setPageSize(n) { state.pageSize = n; state.page = 0; render(); },
		selected: () => [...state.sel],
		clearSelection() { state.sel.clear(); render(); opts.onSelect?.([]); },
		render,
	};
}
