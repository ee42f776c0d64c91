#!/usr/bin/env bash
# Corpus test over ../shared/corpus (third-party files, not in this repo):
# every file gets a verdict without crash; recall/precision are printed, and
# any miss or false alarm on has_vba, has_xlm or encrypted fails the test
# (except rows listed with a reason in known_misses.tsv).
# Skipped (exit 77) where ../shared is absent.
set -uo pipefail
src=${EMOGATE_SOURCE_DIR:?}; bin=${EMOGATE_BIN:?}
corpus="${EMOGATE_CORPUS:-$src/../shared/corpus}"
if [[ ! -d "$corpus" ]]; then
  echo "SKIP: $corpus is absent (the third-party corpus lives outside the repository)"
  exit 77
fi
exec python3 "$src/tests/corpus/corpus_check.py" --bin "$bin" --config "$src/config/emogate.toml" \
  --corpus "$corpus" --strict "${EMOGATE_CORPUS_STRICT:-has_vba,has_xlm,encrypted}" --known "$src/tests/corpus/known_misses.tsv"
