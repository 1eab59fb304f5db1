/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `reserve race` (reserve-race.c), declared apart from the other commands
 * in reserve-command.h because its exit status differs: it never exits 1. */
#pragma once

#include "reserve-command.h"

G_BEGIN_DECLS

extern const ReserveCommand reserve_race_command;

G_END_DECLS
