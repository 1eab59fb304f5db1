#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# reserve(1), in English and in Chinese, against the built `reserve`: every
# command its --help lists has an entry in both, every long option of every
# command is named in both, and groff renders both without a warning (but
# the line breaks it cannot make in Chinese text, which has no spaces).
#
#   check-man-pages.sh RESERVE MAN_PAGE...
set -eu
reserve=$1
shift
status=0

commands=$(LC_ALL=C "$reserve" --help |
  awk '/^Commands:/ { on = 1; next } on && /^$/ { exit } on { print $1 }')
[ -n "$commands" ] || { echo "no commands in reserve --help" >&2; exit 1; }

for page in "$@"; do
  for command in $commands; do
    # An entry: a .TP tag that starts with the command's name.
    if ! grep -Eq "^\.B[IR]? \"?$command( |\"|$)" "$page"; then
      echo "$page: no entry for the command $command" >&2
      status=1
    fi
    [ "$command" = help ] && continue
    for option in $(LC_ALL=C "$reserve" "$command" --help |
      grep -Eo '^  (-[a-z], )?--[a-z-]+' | grep -Eo -- '--[a-z-]+'); do
      escaped=$(printf '%s' "$option" | sed 's/-/\\\\-/g')
      if ! grep -q -- "$escaped" "$page"; then
        echo "$page: $command's option $option is not documented" >&2
        status=1
      fi
    done
  done

  warnings=$(preconv -e UTF-8 "$page" | groff -man -Tutf8 -ww -z 2>&1 |
    grep -v "can't break line" || true)
  if [ -n "$warnings" ]; then
    echo "$page: groff warns:" >&2
    echo "$warnings" >&2
    status=1
  fi
done
exit $status
