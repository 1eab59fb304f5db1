/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The callers of test-model.c: the test program run again as a helper
 * under some uid, with its own bus connection, making one D-Bus call per
 * request it reads and writing back everything the daemon answered.
 *
 * The protocol is one line each way. Request: "METHOD\tPARAMETERS", the
 * parameters in GVariant text form with types. Answer: "ok\tREPLY" (the
 * reply in the same form), "error\tNAME\tMESSAGE" for an API error (its
 * short name, the message escaped with g_strescape()), or "failure\tTEXT"
 * for anything else (a timeout, a lost connection, an unknown error). */
#pragma once

#include <glib.h>
#include <sys/types.h>

G_BEGIN_DECLS

#define MODEL_CALLER_HELPER "model-caller"

typedef struct _ModelCaller ModelCaller;

/* Spawns a caller connected to the bus at @address, running as @uid.
 * @name only labels it in messages. */
ModelCaller *model_caller_spawn (const char *name, const char *address, uid_t uid);
/* Ends the caller's input, waits for it to exit and asserts status 0. */
void model_caller_free (ModelCaller *caller);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ModelCaller, model_caller_free)

const char *model_caller_get_name (ModelCaller *caller);
uid_t model_caller_get_uid (ModelCaller *caller);

typedef struct {
  /* Exactly one of these is set. */
  GVariant *reply;    /* ok: the reply tuple */
  char *error_name;   /* an API error: "SoldOut" ... */
  char *failure;      /* neither: what went wrong */
  char *message;      /* with error_name: the error's message */
  const char *method; /* (not owned) what was called: a static string */
} ModelOutcome;

void model_outcome_clear (ModelOutcome *outcome);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (ModelOutcome, model_outcome_clear)

/* Sends one call (@parameters: floating or not, a tuple) and reads what
 * came of it. A caller that died or said something unreadable is a
 * failure of the outcome, not of this function, so the test can report
 * it with its seed. */
void model_caller_call (ModelCaller *caller,
                        const char *method,
                        GVariant *parameters,
                        ModelOutcome *outcome);

/* The helper's side, `MODEL_CALLER_HELPER ADDRESS`: serves requests from
 * stdin until it ends. */
int model_caller_serve (char **args);

G_END_DECLS
