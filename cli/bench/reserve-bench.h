/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `reserve bench`, for reserve.c's list of commands. */
#pragma once

#include "reserve-command.h"

extern const ReserveCommand reserve_bench_command;
