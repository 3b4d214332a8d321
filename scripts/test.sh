#!/bin/sh
# test.sh - the README's second command: install what the tests need, build
# three trees and run every test in them.
#
#   build/       RelWithDebInfo                 unit + integration tests
#   build-asan/  -DMW_SANITIZE=ON (ASan+UBSan)  unit + integration tests
#   build-fuzz/  clang, -DMW_FUZZ=ON            each fuzz target briefly
#
# Usage: scripts/test.sh [build|asan|fuzz ...]   (default: all three)
# Environment: MW_JOBS (default 2), MW_FUZZ_SECONDS (default 20 per target).
# Prints a summary and, as its last line, "N passed, M failed[, K skipped]";
# exits 1 when anything failed (a build failure counts as one failure).
# .ci/run calls exactly this script.
set -u
cd "$(dirname "$0")/.." || exit 1
ROOT=$(pwd)
JOBS=${MW_JOBS:-2}
FUZZ_SECONDS=${MW_FUZZ_SECONDS:-20}
RES=$ROOT/build-results
TREES=${*:-build asan fuzz}

say() { printf '\n==> %s\n' "$*"; }

# Packages: the script is idempotent and needs root only when something is
# missing.
say "dependencies (scripts/install-deps.sh test)"
if [ "$(id -u)" = 0 ]; then
	scripts/install-deps.sh test
elif command -v sudo >/dev/null 2>&1; then
	sudo scripts/install-deps.sh test
else
	scripts/install-deps.sh test
fi || { echo "test.sh: installing dependencies failed"; echo "0 passed, 1 failed"; exit 1; }
if [ "$(id -u)" != 0 ]; then
	echo "test.sh: not root: the Postfix integration test will be skipped (run: sudo scripts/test.sh)"
fi

rm -rf "$RES"
mkdir -p "$RES"
: >"$RES/summary"
START=$(date +%s)

# record TREE WHAT passed failed skipped [failed names...]
record() { echo "$*" >>"$RES/summary"; }

# build_tree DIR [cmake args...]: configure and build with -j$JOBS, going
# on past errors (-k) so the tests of what did build still run. Returns 2
# when configuring failed (nothing to test), 1 when the build failed.
build_tree() {
	dir=$1; shift
	say "configure + build $dir ($*)"
	t0=$(date +%s)
	if ! cmake -S "$ROOT" -B "$ROOT/$dir" "$@" >"$RES/$dir.configure.log" 2>&1; then
		echo "CONFIGURE FAILED: $dir"
		tail -n 30 "$RES/$dir.configure.log"
		record "$dir configure 0 1 0 cmake"
		return 2
	fi
	if cmake --build "$ROOT/$dir" -j"$JOBS" -- -k >"$RES/$dir.build.log" 2>&1; then
		echo "built $dir in $(($(date +%s) - t0)) s"
		return 0
	fi
	echo "BUILD FAILED: $dir (errors below; full log: $RES/$dir.build.log)"
	grep -E 'error|Error [0-9]|undefined reference' "$RES/$dir.build.log" |
	    grep -v '^gmake.*Waiting' | head -n 30
	record "$dir build 0 1 0 build"
	return 1
}

# run_ctest DIR [ctest args...]: run, print failures' output, count results
# from the JUnit report.
run_ctest() {
	dir=$1; shift
	say "ctest in $dir ($*)"
	t0=$(date +%s)
	ctest --test-dir "$ROOT/$dir" --output-on-failure -j"$JOBS" \
	    --output-junit "$RES/$dir.junit.xml" "$@"
	echo "ctest in $dir took $(($(date +%s) - t0)) s"
	if [ ! -s "$RES/$dir.junit.xml" ]; then
		record "$dir tests 0 1 0 ctest-did-not-run"
		return
	fi
	python3 - "$RES/$dir.junit.xml" "$dir" >>"$RES/summary" <<'EOF'
import sys
import xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
p = f = s = 0
failed = []
for tc in root.iter("testcase"):
    st = tc.get("status")
    if st == "run":
        p += 1
    elif st in ("notrun", "disabled") or tc.find("skipped") is not None:
        s += 1
    else:
        f += 1
        failed.append(tc.get("name"))
print(sys.argv[2], "tests", p, f, s, " ".join(failed))
EOF
}

for tree in $TREES; do
	case $tree in
	build)
		build_tree build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMW_SANITIZE=OFF \
		    -DMW_FUZZ=OFF -DMW_TESTS=ON
		[ $? -lt 2 ] && run_ctest build ;;
	asan)
		build_tree build-asan -DCMAKE_BUILD_TYPE=Debug -DMW_SANITIZE=ON \
		    -DMW_FUZZ=OFF -DMW_TESTS=ON
		[ $? -lt 2 ] && run_ctest build-asan ;;
	fuzz)
		if [ ! -f build-fuzz/CMakeCache.txt ]; then
			set -- -DCMAKE_C_COMPILER=clang
		else
			set --
		fi
		build_tree build-fuzz "$@" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
		    -DMW_FUZZ=ON -DMW_TESTS=OFF -DMW_FUZZ_SECONDS="$FUZZ_SECONDS"
		if [ $? -lt 2 ]; then
			if ctest --test-dir "$ROOT/build-fuzz" -N -L fuzz | grep -q 'Total Tests: 0'; then
				echo "build-fuzz: no fuzz targets yet"
				record "build-fuzz tests 0 0 0"
			else
				run_ctest build-fuzz -L fuzz
			fi
		fi ;;
	*)
		echo "test.sh: unknown tree '$tree' (build, asan or fuzz)"
		record "$tree usage 0 1 0 unknown-tree" ;;
	esac
done

say "summary ($(($(date +%s) - START)) s)"
P=0 F=0 S=0
while read -r dir what p f s names; do
	P=$((P + p)) F=$((F + f)) S=$((S + s))
	printf '%-12s %-6s %4d passed, %d failed, %d skipped\n' "$dir" "$what" "$p" "$f" "$s"
	for n in $names; do
		printf '    FAILED: %s %s\n' "$dir" "$n"
	done
done <"$RES/summary"
echo "logs and JUnit reports: $RES"
if [ "$S" -gt 0 ]; then
	echo "$P passed, $F failed, $S skipped"
else
	echo "$P passed, $F failed"
fi
[ "$F" -eq 0 ] && [ "$P" -gt 0 ]
