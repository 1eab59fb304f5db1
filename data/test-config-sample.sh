#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# The shipped /etc/reserved/reserved.conf must load: starts RESERVED with it
# on a private session bus and a fresh database, asks for DefaultItem, then
# does the same with every key uncommented (its documented defaults).
#
#   test-config-sample.sh RESERVED CONFIG
set -eu
reserved=$1
sample=$2
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
sed 's/^#\([A-Za-z]*=\)/\1/' "$sample" > "$scratch/uncommented.conf"
grep -q '^InitialCapacity=100$' "$scratch/uncommented.conf"

for config in "$sample" "$scratch/uncommented.conf"; do
  rm -f "$scratch"/db*
  RESERVED="$reserved" CONFIG="$config" DB="$scratch/db" dbus-run-session -- sh -c '
    "$RESERVED" --session --config "$CONFIG" --database "$DB" &
    pid=$!
    gdbus wait --session --timeout 10 org.reserved.Reserve1 || { kill $pid; exit 1; }
    answer=$(gdbus call --session --dest org.reserved.Reserve1 \
      --object-path /org/reserved/Reserve1 \
      --method org.freedesktop.DBus.Properties.Get org.reserved.Reserve1 DefaultItem)
    kill -TERM $pid
    wait $pid
    echo "$CONFIG: DefaultItem $answer"
    test "$answer" = "(<'"'ticket'"'>,)"
  '
done
echo "the sample configuration loads, commented and uncommented"
