// build.mjs - bundles the dashboard into dist/ (committed: the daemon serves
// dist/ and needs no Node at run time).
//
//   node build.mjs            write dist/
//   node build.mjs --check    build into a temporary directory and compare it
//                             with dist/ byte for byte; exit 1 naming every
//                             file that differs (run by CTest: dist/ must be
//                             exactly what the sources and the lock file give)
//
// Output: dist/index.html, dist/favicon.svg, dist/assets/app.js (one ES
// module, minified), dist/assets/app.css (ours + uPlot's stylesheet). No
// inline script or style anywhere: the daemon's Content-Security-Policy
// forbids them. File names carry no hash so the output is the same on every
// machine; the daemon's cache headers make the browser revalidate.
import * as esbuild from 'esbuild';
import { mkdtempSync, mkdirSync, readdirSync, readFileSync, rmSync,
	copyFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const check = process.argv.includes('--check');
const out = check ? mkdtempSync(join(tmpdir(), 'mailward-dist-')) : join(here, 'dist');

async function build(dir) {
	rmSync(dir, { recursive: true, force: true });
	mkdirSync(join(dir, 'assets'), { recursive: true });
	const common = {
		bundle: true,
		minify: true,
		legalComments: 'none',
		charset: 'utf8',
		logLevel: 'warning',
		absWorkingDir: here,
	};
	await esbuild.build({
		...common,
		entryPoints: ['src/main.js'],
		outfile: join(dir, 'assets/app.js'),
		format: 'esm',
		target: ['es2020', 'chrome100', 'firefox100', 'safari15'],
	});
	await esbuild.build({
		...common,
		entryPoints: ['src/app.css'],
		outfile: join(dir, 'assets/app.css'),
		target: ['chrome100', 'firefox100', 'safari15'],
	});
	copyFileSync(join(here, 'src/index.html'), join(dir, 'index.html'));
	copyFileSync(join(here, 'src/favicon.svg'), join(dir, 'favicon.svg'));
}

function files(dir) {
	const res = [];
	(function walk(d) {
		for (const name of readdirSync(d).sort()) {
			const p = join(d, name);
			if (statSync(p).isDirectory()) walk(p);
			else res.push(relative(dir, p));
		}
	})(dir);
	return res;
}

await build(out);
if (check) {
	const dist = join(here, 'dist');
	const want = files(out), have = files(dist);
	const bad = [];
	for (const f of new Set([...want, ...have])) {
		if (!want.includes(f)) bad.push(`${f}: in dist/ but not produced by the build`);
		else if (!have.includes(f)) bad.push(`${f}: produced by the build but missing from dist/`);
		else if (!readFileSync(join(out, f)).equals(readFileSync(join(dist, f))))
			bad.push(`${f}: differs from a fresh build`);
	}
	rmSync(out, { recursive: true, force: true });
	if (bad.length) {
		console.error('web/dist is not what the sources build:\n  ' + bad.join('\n  ') +
		    '\nrebuild it: npm --prefix web ci && npm --prefix web run build');
		process.exit(1);
	}
	console.log(`web/dist matches a fresh build (${want.length} files)`);
} else {
	const sizes = files(out).map((f) => `${f} ${statSync(join(out, f)).size} B`);
	console.log('built web/dist:\n  ' + sizes.join('\n  '));
}
