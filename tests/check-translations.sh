#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Every catalogue of po/ translates every message of `reserve`: the messages
# the sources in po/POTFILES mark now are merged into each .po of
# po/LINGUAS (as `meson compile reserve-update-po` would, without writing
# it), and msgfmt must count none fuzzy and none untranslated. So a message
# marked without a translation, or one whose English changed, fails here.
#
#   check-translations.sh SOURCE_ROOT
set -eu
root=$1
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
status=0

cd "$root"
grep -v '^#' po/POTFILES | grep -v '^$' >"$scratch/files"
xgettext --files-from="$scratch/files" --from-code=UTF-8 --language=C \
  --keyword=_ --keyword=N_ --keyword=P_:1,2 --add-comments=TRANSLATORS: \
  --output="$scratch/reserve.pot"

for language in $(grep -v '^#' po/LINGUAS); do
  merged="$scratch/$language.po"
  msgmerge --quiet --output-file="$merged" "po/$language.po" "$scratch/reserve.pot"
  statistics=$(msgfmt --check --statistics --output-file=/dev/null "$merged" 2>&1)
  echo "po/$language.po: $statistics"
  case $statistics in
    *fuzzy* | *untranslated*)
      echo "po/$language.po lacks a translation (fuzzy or untranslated):" >&2
      # Each entry but the header (the first), separated by a blank line.
      msgattrib --only-fuzzy --no-obsolete "$merged" | awk 'BEGIN { RS = "" } NR > 1 { print; print "" }' >&2
      msgattrib --untranslated --no-obsolete "$merged" | awk 'BEGIN { RS = "" } NR > 1 { print; print "" }' >&2
      status=1
      ;;
  esac
done
exit $status
