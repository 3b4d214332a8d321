#!/bin/bash
# browser_unit.sh - the dashboard's pure modules under Node, no browser
# (tests/browser/unit.test.mjs): labels in both languages, CIDR matching.
# Skips (77) without node.
. "$(dirname "$0")/lib.sh"
command -v node >/dev/null || skip_all "node not installed"
node "$MW_SOURCE_DIR/tests/browser/unit.test.mjs"
