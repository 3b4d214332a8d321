// api.js - the admin API (docs/admin-api.md) as the dashboard uses it.
//
// Same origin, session cookie (HttpOnly, SameSite=Strict: the page never
// sees it); the CSRF token from GET /api/v1/session goes in X-CSRF-Token
// on every POST/PUT/DELETE. A 401 anywhere means the session ended: the
// app goes back to the login page.

export class ApiError extends Error {
	constructor(status, message, retryAfter) {
		super(message);
		this.status = status;
		this.retryAfter = retryAfter;
	}
}

let csrf = '';
let onUnauthorized = () => {};

export function setCsrf(token) { csrf = token || ''; }
export function setUnauthorizedHandler(fn) { onUnauthorized = fn; }

export async function api(method, path, body, opts = {}) {
	const headers = { Accept: 'application/json' };
	const init = { method, headers, credentials: 'same-origin', cache: 'no-store' };
	if (method !== 'GET' && method !== 'HEAD') {
		headers['X-CSRF-Token'] = csrf;
		if (body !== undefined) {
			headers['Content-Type'] = 'application/json';
			init.body = JSON.stringify(body);
		}
	}
	let res;
	try {
		res = await fetch(path, init);
	} catch (e) {
		throw new ApiError(0, 'mailwardd is not reachable (' + e.message + ')');
	}
	let data = null;
	const text = await res.text();
	if (text) {
		try { data = JSON.parse(text); } catch (e) { data = null; }
	}
	if (!res.ok) {
		const msg = (data && data.error) || `HTTP ${res.status}`;
		const ra = parseInt(res.headers.get('Retry-After') || '', 10);
		const err = new ApiError(res.status, msg, Number.isFinite(ra) ? ra : undefined);
		if (res.status === 401 && !opts.noRedirect) onUnauthorized(err);
		throw err;
	}
	return data ?? {};
}

export const get = (path, opts) => api('GET', path, undefined, opts);
export const post = (path, body, opts) => api('POST', path, body, opts);
export const del = (path, opts) => api('DELETE', path, undefined, opts);

export function qs(params) {
	const u = new URLSearchParams();
	for (const [k, v] of Object.entries(params))
		if (v !== undefined && v !== null && v !== '') u.set(k, String(v));
	const s = u.toString();
	return s ? '?' + s : '';
}
