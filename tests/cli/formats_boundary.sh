#!/usr/bin/env bash
# The layout rule, checked: pure parsers (src/formats) and their helpers
# (src/common) reach nothing else. Compiles a probe with the formats
# library's only include root (the build's formats-root) and expects
# `#include "engine/..."` and the public API to fail while a format header
# compiles; then checks that the shared helpers have one definition each.
# Trusted input: none (reads the source tree and the build directory).
set -euo pipefail
SRC=${EMOGATE_SOURCE_DIR:?}
BUILD=${EMOGATE_BUILD_DIR:?}
ROOT=$BUILD/formats-root
fail=0
bad() { echo "FAIL: $*"; fail=1; }
[ -d "$ROOT/formats" ] && [ -d "$ROOT/common" ] || { echo "no $ROOT (configure the build first)"; exit 1; }
CXX=$(sed -n 's/^CMAKE_CXX_COMPILER:[A-Z]*=//p' "$BUILD/CMakeCache.txt")
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
probe() {  # probe NAME INCLUDE -> 0 when it compiles with the formats root alone
    printf '#include "%s"\nint main() { return 0; }\n' "$2" >"$T/$1.cpp"
    "$CXX" -std=c++20 -fsyntax-only -I "$ROOT" "$T/$1.cpp" 2>"$T/$1.err"
}
probe ok formats/zip/directory.h || { cat "$T/ok.err"; bad "a format header does not compile with the formats root"; }
probe engine engine/context.h && bad "engine/context.h is reachable from the formats root"
probe api emogate/scanner.h && bad "the public API is reachable from the formats root"
# Quote includes inside formats/ and common/ name only formats/ or common/.
if grep -rnE '#include "' "$SRC/src/formats" "$SRC/src/common" | grep -vE '#include "(formats|common)/'; then
    bad "a parser includes something outside formats/ and common/"
fi
# Each shared helper is defined in one file of src/ (overloads allowed).
for fn in append_utf8 utf16le_to_utf8 latin1_to_utf8 base_name join ascii_lower le16 le32; do
    defs=$(grep -rEn "^(inline |static |constexpr )*[a-zA-Z_:<>0-9]+[ &*]+$fn\(" "$SRC/src" | grep -v ';$' || true)
    n=$(cut -d: -f1 <<<"$defs" | sort -u | grep -c . || true)
    [ "$n" -le 1 ] || { echo "$defs"; bad "$fn is defined in $n files"; }
done
if grep -rn "std::tolower\|::tolower(" "$SRC/src" ; then bad "locale tolower in src (use the ASCII helper)"; fi
[ "$(grep -rn '= "VelvetSweatshop"' "$SRC/src" | wc -l)" -le 1 ] || bad "VelvetSweatshop spelled more than once"
[ "$fail" = 0 ] && echo "formats boundary and helper copies: ok"
exit "$fail"
