# SPDX-License-Identifier: LGPL-2.1-or-later
# bash completion for reserve(1)                          -*- shell-script -*-
#
# The commands and their options are read from `reserve --help` and
# `reserve COMMAND --help`, so a new command or option completes without a
# change here. Nothing here talks to the daemon: completing a word never
# starts reserved. The help is read in the C locale: its headings are
# translated in others.
#
# COMPREPLY=($(compgen ...)) is bash-completion's own idiom; no word offered
# here contains a space.
# shellcheck disable=SC2207

_reserve_commands()
{
    # The indented lines between "Commands:" and the next blank line.
    LC_ALL=C "$1" --help 2>/dev/null |
        awk '/^Commands:/ { on = 1; next } on && /^$/ { exit } on { print $1 }'
}

_reserve()
{
    local cur prev words cword split
    # ':' splits no word here: a D-Bus address (--bus) is one word.
    _init_completion -s -n : || return

    local i command=""
    for ((i = 1; i < cword; i++)); do
        # The options that may come before the command; --timeout's value
        # is no command.
        if [[ ${words[i]} == --timeout ]]; then
            ((i++))
            continue
        fi
        if [[ ${words[i]} != -* ]]; then
            command=${words[i]}
            break
        fi
    done

    if [[ -z $command ]]; then
        if [[ $cur == -* ]]; then
            COMPREPLY=($(compgen -W '--help --version --session --system --timeout --json' -- "$cur"))
        else
            COMPREPLY=($(compgen -W '$(_reserve_commands "$1")' -- "$cur"))
        fi
        return
    fi

    if [[ $command == help ]]; then
        ((cword == i + 1)) &&
            COMPREPLY=($(compgen -W '$(_reserve_commands "$1")' -- "$cur"))
        return
    fi

    case $prev in
        --mode | -m)
            [[ $command == race ]] &&
                COMPREPLY=($(compgen -W 'all file locked-file sqlite dbus' -- "$cur"))
            return
            ;;
        --file | -f | --svg)
            [[ $command == race ]] && _filedir
            return
            ;;
        --bus)
            # A D-Bus address: its kind, then for unix:path= a socket's
            # path. Bash itself still splits the word at ':', so the part
            # before the last ':' is trimmed off what is offered.
            [[ $command == bench ]] || return
            if [[ $cur == unix:path=* ]]; then
                COMPREPLY=($(compgen -f -P unix:path= -- "${cur#unix:path=}"))
            else
                COMPREPLY=($(compgen -W 'unix:path= unix:abstract= tcp:host=' -- "$cur"))
                compopt -o nospace
            fi
            __ltrim_colon_completions "$cur"
            return
            ;;
        --user | -u | --item | -i | --quantity | -q | --request-id | \
            --capacity | -c | --per-user-limit | -l | --per-user | --buyers | -n | -b | \
            --stock | -s | --delay-ms | -d | --jobs | -j | --seconds | --calls | --warmup | -w | \
            --timeout | --ttl | -t | --sale-start | --sale-end | --start | --end | -e)
            # Free text, a number or a time: nothing to offer.
            return
            ;;
    esac
    $split && return

    if [[ $cur == -* ]]; then
        # Only what looks like a flag: prose in the help text may start a
        # line with one too ("--kill-one; or ...").
        local flags
        flags=$(LC_ALL=C _parse_help "$1" "$command --help" | grep -E '^--?[[:alnum:]][-[:alnum:]]*=?$')
        COMPREPLY=($(compgen -W "$flags" -- "$cur"))
        [[ ${COMPREPLY-} == *= ]] && compopt -o nospace
    fi
} &&
    complete -F _reserve reserve

# ex: filetype=sh
