#!/usr/bin/env bash
# The man pages: emogate.toml(5) is generated from the loader's key table
# and documents every key the loader reads (the generator's --check fails
# otherwise, shown here with a key list holding one key too many); both
# pages render with `man -l` without groff warnings; the rendered
# emogate.toml(5) lists every key with its default under its section, and
# emogate(8) names every command and option of the usage texts.
# Trusted input: the build tree and this checkout.
set -uo pipefail
EMOGATE_BIN=${EMOGATE_BIN:?EMOGATE_BIN not set}
SRC=${EMOGATE_SOURCE_DIR:?}
BUILD=${EMOGATE_BUILD_DIR:?}
command -v man >/dev/null || { echo "SKIP: man (package man-db) is not installed"; exit 77; }
GEN="python3 $SRC/scripts/gen-config-man"
T=$(mktemp -d /tmp/emogate-man.XXXXXX)
trap 'rm -rf "$T"' EXIT
FAILS=0
ok() { echo "ok   - $*"; }
bad() { echo "FAIL - $*"; FAILS=$((FAILS + 1)); }

"$EMOGATE_BIN" config-keys >"$T/keys" || bad "emogate config-keys failed"
[ "$(wc -l <"$T/keys")" -ge 50 ] && ok "config-keys lists $(wc -l <"$T/keys") keys" || bad "config-keys lists too few keys"

if $GEN --keys "$T/keys" --example "$SRC/config/emogate.toml" --check -o "$T/emogate.toml.5" 2>"$T/gen.err"; then
    ok "every key the loader reads is described in config/emogate.toml"
else
    bad "undocumented or unknown keys:"; cat "$T/gen.err"
fi
# The check can fail: a key the loader would read that the example lacks.
printf 'limits.not_documented_anywhere\tinteger\t1\t1 to 2\n' >>"$T/keys"
if $GEN --keys "$T/keys" --example "$SRC/config/emogate.toml" --check -o "$T/extra.5" 2>"$T/extra.err"; then
    bad "generator --check accepted an undocumented key"
elif grep -q "limits.not_documented_anywhere: read by the loader" "$T/extra.err"; then
    ok "generator --check names an undocumented key"
else
    bad "generator --check failed without naming the key"; cat "$T/extra.err"
fi
# An array of tables ([[rules.set]] style): described by its header's comment
# and its keys' comments, rendered under a [[...]] heading.
printf 'rules.set\tarray of tables\t[]\t\nrules.set[].name\tstring\t""\t\n' >"$T/aot.keys"
printf '# One named rule set per table.\n[[rules.set]]\n# The set'"'"'s name.\nname = "core"\n' >"$T/aot.toml"
if $GEN --keys "$T/aot.keys" --example "$T/aot.toml" --check -o "$T/aot.5" 2>"$T/aot.err" &&
   MANWIDTH=250 man -l "$T/aot.5" 2>/dev/null | sed -n '/^   \[\[rules.set\]\]/,/^[A-Z]/p' | grep -q 'name = "" (string)'; then
    ok "an array of tables gets a [[...]] section with its keys"
else
    bad "array of tables not documented"; cat "$T/aot.err"
fi
# The page the build made is the page the loader gives now.
$GEN --emogate "$EMOGATE_BIN" --example "$SRC/config/emogate.toml" --version "$("$EMOGATE_BIN" version | cut -d' ' -f2)" \
    -o "$T/fresh.5" 2>/dev/null
cmp -s "$T/fresh.5" "$BUILD/man/emogate.toml.5" && ok "build/man/emogate.toml.5 is up to date" ||
    bad "build/man/emogate.toml.5 differs from what the loader gives (rebuild target emogate_man)"

render() {  # render PAGE OUT: plain text, wide, no hyphenation breaks; groff warnings to OUT.warn
    MANWIDTH=250 MAN_KEEP_FORMATTING= man --warnings -l "$1" >"$2" 2>"$2.warn"
}
for page in "$BUILD/man/emogate.toml.5" "$SRC/man/emogate.8"; do
    name=$(basename "$page")
    if render "$page" "$T/$name.txt" && [ -s "$T/$name.txt" ]; then
        ok "man -l $name renders ($(wc -l <"$T/$name.txt") lines)"
    else
        bad "man -l $name failed"; cat "$T/$name.txt.warn"
    fi
    [ -s "$T/$name.txt.warn" ] && { bad "groff warnings for $name:"; cat "$T/$name.txt.warn"; } || ok "$name: no groff warnings"
done

# Every loader key, with its default, under its own section heading.
python3 - "$T/keys" "$T/emogate.toml.5.txt" <<'PY' || FAILS=$((FAILS + 1))
import re, sys
keys = [l.split('\t') for l in open(sys.argv[1]).read().splitlines() if l]
keys = [k for k in keys if not k[0].startswith('limits.not_documented_anywhere')]
text = open(sys.argv[2]).read()
sections, cur = {}, None
for line in text.splitlines():
    m = re.match(r'^ {3}\[\[?([A-Za-z0-9_.]+)\]\]?\s*$', line)
    if m:
        cur = m.group(1) + ('[]' if line.strip().startswith('[[') else '')
        sections[cur] = []
    elif cur:
        sections[cur].append(line.strip())
missing = []
for key, _type, default, _range in keys:
    sec, _, name = key.rpartition('.')
    if f'{name} = {default} (' not in '\n'.join(sections.get(sec, [])):
        missing.append(key)
for k in missing:
    print(f'FAIL - rendered emogate.toml(5) lacks {k} with its default')
if not missing:
    print(f'ok   - rendered emogate.toml(5) lists all {len(keys)} keys with their defaults')
sys.exit(1 if missing else 0)
PY

# Every command and option of the usage texts appears in emogate(8).
"$EMOGATE_BIN" help >"$T/usage"
: >"$T/empty.toml"
"$EMOGATE_BIN" quarantine --config "$T/empty.toml" 2>>"$T/usage"
words=$( { grep -oE -- '--[a-z-]+' "$T/usage"; grep -oE '^ {2}[a-z-]+' "$T/usage";
           grep -oE 'quarantine [a-z]+' "$T/usage" | cut -d' ' -f2; echo config-keys; } | sort -u | tr -d ' ')
missing=0
for w in $words; do
    grep -qE -- "(^|[^a-z-])$w([^a-z-]|$)" "$T/emogate.8.txt" || { bad "emogate(8) does not mention $w"; missing=1; }
done
[ "$missing" = 0 ] && ok "emogate(8) mentions every command and option: $(echo $words)"
for s in "EXIT STATUS" SIGNALS FILES SIGHUP SIGTERM; do
    grep -q "$s" "$T/emogate.8.txt" && ok "emogate(8) has $s" || bad "emogate(8) lacks $s"
done

[ "$FAILS" = 0 ] || { echo "$FAILS check(s) failed"; exit 1; }
echo "all checks passed"
