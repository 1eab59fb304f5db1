#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# check-cases.sh STAMP PROGRAM PATH...
#
# Fails unless PROGRAM registers exactly the test cases PATH... (the list
# tests/meson.build read from its source), so that a case the list lacks
# cannot silently stop running; then writes STAMP.
set -eu
stamp=$1
program=$2
shift 2
listed=$(printf '%s\n' "$@" | LC_ALL=C sort)
registered=$("$program" -l | grep '^/' | LC_ALL=C sort)
if [ "$listed" != "$registered" ]; then
  echo "$program registers other test cases than tests/meson.build read from its source:" >&2
  printf '%s\n' "$listed" > "$stamp.listed"
  printf '%s\n' "$registered" > "$stamp.registered"
  diff "$stamp.listed" "$stamp.registered" >&2 || true
  rm -f "$stamp.listed" "$stamp.registered"
  echo "(each case's path must be a string literal at the start of its g_test_add* or ADD* line)" >&2
  exit 1
fi
printf '%s\n' "$registered" > "$stamp"
