// ip.js - IPv4/IPv6 addresses and CIDR networks, for two things only:
// catching a typo before the form is sent (the daemon still validates and
// its error is shown as is) and counting which list entries contain the
// addresses of recent events. Addresses become BigInts (IPv4 as
// ::ffff:a.b.c.d, as the daemon maps them).

function parse4(s) {
	const p = s.split('.');
	if (p.length !== 4) return null;
	let v = 0n;
	for (const x of p) {
		if (!/^\d{1,3}$/.test(x) || Number(x) > 255) return null;
		v = (v << 8n) | BigInt(Number(x));
	}
	return v;
}

function parse6(s) {
	let tail4 = null;
	const m = s.match(/^(.*:)(\d+\.\d+\.\d+\.\d+)$/);
	if (m) {
		tail4 = parse4(m[2]);
		if (tail4 === null) return null;
		s = m[1] + '0:0';
	}
	const halves = s.split('::');
	if (halves.length > 2) return null;
	const groups = (x) => (x === '' ? [] : x.split(':'));
	const a = groups(halves[0]), b = halves.length === 2 ? groups(halves[1]) : [];
	const missing = 8 - a.length - b.length;
	if (halves.length === 2 ? missing < 1 : missing !== 0) return null;
	const all = [...a, ...Array(halves.length === 2 ? missing : 0).fill('0'), ...b];
	let v = 0n;
	for (const g of all) {
		if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
		v = (v << 16n) | BigInt(parseInt(g, 16));
	}
	if (tail4 !== null) v = (v & ~0xffffffffn) | tail4;
	return v;
}

/* {v: BigInt (128-bit), bits: prefix length in 128-bit space, v4: bool} or null */
export function parseNet(text) {
	const s = String(text).trim();
	const [addr, len, extra] = s.split('/');
	if (extra !== undefined || !addr) return null;
	let v, max, v4 = false;
	if (addr.includes(':')) {
		v = parse6(addr);
		max = 128;
	} else {
		v = parse4(addr);
		max = 32;
		v4 = true;
		if (v !== null) v |= 0xffff00000000n;
	}
	if (v === null) return null;
	let bits = max;
	if (len !== undefined) {
		if (!/^\d{1,3}$/.test(len) || Number(len) > max) return null;
		bits = Number(len);
	}
	return { v, bits: v4 ? bits + 96 : bits, v4 };
}

export function isValidNet(text) { return parseNet(text) !== null; }

/* Does network net (parsed) contain address a (parsed)? */
export function contains(net, a) {
	if (!net || !a) return false;
	const shift = BigInt(128 - net.bits);
	return (net.v >> shift) === (a.v >> shift);
}
