// dom.js - building the page without innerHTML: every value from the API is
// set as text (an address or a reason can never become markup), and no
// inline style or handler attribute is written (the CSP forbids both).

export function h(tag, attrs, ...children) {
	const el = document.createElement(tag);
	if (attrs) {
		for (const [k, v] of Object.entries(attrs)) {
			if (v === undefined || v === null || v === false) continue;
			if (k.startsWith('on') && typeof v === 'function')
				el.addEventListener(k.slice(2).toLowerCase(), v);
			else if (k === 'class') el.className = v;
			else if (k === 'dataset') Object.assign(el.dataset, v);
			else if (k === 'value') el.value = v;
			else if (k === 'checked') el.checked = !!v;
			else if (v === true) el.setAttribute(k, '');
			else el.setAttribute(k, String(v));
		}
	}
	append(el, children);
	return el;
}

function append(el, children) {
	for (const c of children) {
		if (c === undefined || c === null || c === false) continue;
		if (Array.isArray(c)) append(el, c);
		else if (c instanceof Node) el.appendChild(c);
		else el.appendChild(document.createTextNode(String(c)));
	}
}

export function clear(el) {
	while (el.firstChild) el.removeChild(el.firstChild);
	return el;
}

export function replace(el, ...children) {
	clear(el);
	append(el, children);
	return el;
}

let uid = 0;
export function id(prefix) { return `${prefix || 'id'}-${++uid}`; }

/* A labelled form field: <div class=field><label for>..</label><input id></div> */
export function field(label, input, help) {
	const iid = input.id || (input.id = id('f'));
	let helpEl = null;
	if (help) {
		helpEl = h('div', { class: 'help', id: iid + '-help' }, help);
		input.setAttribute('aria-describedby', helpEl.id);
	}
	return h('div', { class: 'field' }, h('label', { for: iid }, label), input, helpEl);
}

/* A message region announced to screen readers. kind: ok | error | info */
export function message(kind, text) {
	return h('div', {
		class: 'msg msg-' + kind,
		role: kind === 'error' ? 'alert' : 'status',
	}, text);
}
