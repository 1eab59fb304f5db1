/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define G_LOG_DOMAIN "reserved-call"

#include "reserved-call.h"

#include "reserve-error.h"
#include "reserve-names.h"
#include "reserved-audit.h"

/* Where step 3 stands. */
typedef enum {
  OWNER_UNASKED,
  OWNER_ASKING,  /* inside the method's is_owner */
  OWNER_WAITING, /* is_owner returned, the answer is to come */
  OWNER_KNOWN,
} OwnerState;

struct _ReservedCall {
  ReservedDispatcher *dispatcher; /* owned */
  const ReservedMethod *method;
  GDBusMethodInvocation *invocation; /* owned; NULL once answered */
  ReservedArg args[RESERVED_CALL_ARGS_MAX];
  GVariant *containers[RESERVED_CALL_ARGS_MAX]; /* owned refs behind args[i].v */
  uid_t caller;
  gboolean counted; /* in its caller's CallerState */
  OwnerState owner;
  gboolean owned;      /* once owner is OWNER_KNOWN */
  GError *owner_error; /* the same, when there is no such target */
  gboolean required;   /* refused unless allowed the action */
  gboolean admin;
};

/* What one uid has the daemon hold. Every held call costs memory (its
 * message, its invocation, its queued write), and a client that sends
 * faster than the disk commits would otherwise grow the daemon without
 * end, so each uid may have RESERVE_CALLS_IN_FLIGHT_MAX calls held at once,
 * counted from the moment its uid is known until the reply.
 *
 * Calls still waiting for the bus to say who sent them are not counted
 * (their uid is what is being asked); the bus bounds them itself: a
 * connection has at most max_replies_per_connection calls awaiting
 * replies, a uid at most max_connections_per_user connections. */
typedef struct {
  guint calls;
  gboolean refusal_logged; /* one message per episode, not one per refused call */
  gboolean asking;         /* one of its calls waits for the authority */
  GQueue waiting;          /* its later calls, in the order they came */
} CallerState;

struct _ReservedDispatcher {
  GObject parent_instance;
  GHashTable *methods_by_name; /* name -> const ReservedMethod * */
  ReservedCallers *callers;
  ReservedAuthority *authority;
  GObject *handler_object;   /* not owned: it owns the dispatcher */
  GHashTable *caller_states; /* uid -> CallerState, while it has calls held */
  GHashTable *awaiting_uid;  /* sender -> GQueue of its calls, while its uid is asked */
  guint in_flight;
  gboolean stopping;
};

G_DEFINE_TYPE (ReservedDispatcher, reserved_dispatcher, G_TYPE_OBJECT)

enum { SIGNAL_DRAINED, N_SIGNALS };
static guint signals[N_SIGNALS];

static void proceed (ReservedCall *call);

/* --- the call itself ------------------------------------------------------------- */

static void
caller_state_free (CallerState *state)
{
  g_assert (g_queue_is_empty (&state->waiting));
  g_free (state);
}

static CallerState *
caller_state (ReservedDispatcher *self, uid_t caller)
{
  return g_hash_table_lookup (self->caller_states, GUINT_TO_POINTER ((guint) caller));
}

/* A uid with nothing held takes no memory either. */
static void
forget_caller_if_idle (ReservedDispatcher *self, uid_t caller)
{
  CallerState *state = caller_state (self, caller);

  if (state != NULL && state->calls == 0 && !state->asking && g_queue_is_empty (&state->waiting))
    g_hash_table_remove (self->caller_states, GUINT_TO_POINTER ((guint) caller));
}

static void
call_free (ReservedCall *call)
{
  ReservedDispatcher *self = call->dispatcher;

  if (call->counted)
    {
      caller_state (self, call->caller)->calls--;
      forget_caller_if_idle (self, call->caller);
    }
  for (guint i = 0; i < RESERVED_CALL_ARGS_MAX; i++)
    g_clear_pointer (&call->containers[i], g_variant_unref);
  g_clear_object (&call->invocation);
  g_clear_error (&call->owner_error);
  g_free (call);
  self->in_flight--;
  if (self->stopping && self->in_flight == 0)
    g_signal_emit (self, signals[SIGNAL_DRAINED], 0);
  g_object_unref (self->handler_object);
  g_object_unref (self);
}

gpointer
reserved_call_get_handler_data (ReservedCall *call)
{
  return call->dispatcher->handler_object;
}

const ReservedArg *
reserved_call_get_args (ReservedCall *call)
{
  return call->args;
}

uid_t
reserved_call_get_caller (ReservedCall *call)
{
  return call->caller;
}

const char *
reserved_call_get_sender (ReservedCall *call)
{
  return g_dbus_method_invocation_get_sender (call->invocation);
}

gboolean
reserved_call_is_admin (ReservedCall *call)
{
  return call->admin;
}

GDBusMethodInvocation *
reserved_call_end (ReservedCall *call)
{
  GDBusMethodInvocation *invocation = g_steal_pointer (&call->invocation);

  call_free (call);
  return invocation;
}

/* The API's refusals go to the audit trail, with what the arguments say of
 * the customer, item and order by their names in the XML. Other errors
 * (LimitsExceeded, when a uid has too many calls in flight) are logged
 * once per episode where they are decided. */
static void
audit_refusal (ReservedCall *call, const GError *error)
{
  GDBusArgInfo *const *in_args =
    g_dbus_method_invocation_get_method_info (call->invocation)->in_args;
  g_autofree char *error_name = g_dbus_error_encode_gerror (error);
  ReservedAuditRecord record = {
    .uid = call->caller,
    .method = call->method->name,
    .error = error_name,
  };

  for (guint i = 0; in_args != NULL && in_args[i] != NULL; i++)
    {
      const char *name = in_args[i]->name;
      const char *signature = in_args[i]->signature;

      if (g_str_equal (name, "item") && g_str_equal (signature, "s"))
        record.item = call->args[i].s;
      else if (g_str_equal (name, "user") && g_str_equal (signature, "s") &&
               call->args[i].s[0] != '\0')
        record.customer = call->args[i].s;
      else if (g_str_equal (name, "order") && g_str_equal (signature, "t"))
        record.order = call->args[i].t;
      else if (g_str_equal (name, "quantity") && g_str_equal (signature, "u"))
        record.quantity = call->args[i].u;
      else if (g_str_equal (name, "options") && g_str_equal (signature, "a{sv}"))
        g_variant_lookup (call->args[i].v, RESERVE_OPTION_REQUEST_ID, "&s", &record.request_id);
    }
  if (call->caller == RESERVED_AUDIT_NO_UID)
    reserved_audit (RESERVED_AUDIT_REFUSAL, &record, "%s refused: %s", call->method->name,
                    error->message);
  else
    reserved_audit (RESERVED_AUDIT_REFUSAL, &record, "%s refused for uid %u: %s",
                    call->method->name, (guint) call->caller, error->message);
}

void
reserved_call_fail (ReservedCall *call, const GError *error)
{
  if (error->domain == RESERVE_ERROR)
    audit_refusal (call, error);
  else
    g_debug ("%s refused: %s", call->method->name, error->message);
  g_dbus_method_invocation_return_gerror (reserved_call_end (call), error);
}

/* GDBus has checked the parameters against the XML already, so each
 * argument's type is the one its signature names. Each is read with the
 * accessor of its type: g_variant_get_child() would parse a format string
 * per argument, which cost more than the rest of the unpacking. The
 * strings point into @parameters, which the invocation keeps. */
static void
unpack_arguments (ReservedCall *call)
{
  GDBusArgInfo *const *in_args =
    g_dbus_method_invocation_get_method_info (call->invocation)->in_args;
  GVariant *parameters = g_dbus_method_invocation_get_parameters (call->invocation);

  for (guint i = 0; in_args != NULL && in_args[i] != NULL; i++)
    {
      ReservedArg *arg = &call->args[i];
      g_autoptr(GVariant) child = g_variant_get_child_value (parameters, i);

      g_assert (i < RESERVED_CALL_ARGS_MAX);
      switch (in_args[i]->signature[0])
        {
        case 's':
        case 'o':
        case 'g':
          arg->s = g_variant_get_string (child, NULL);
          break;
        case 'u':
          arg->u = g_variant_get_uint32 (child);
          break;
        case 'i':
          arg->i = g_variant_get_int32 (child);
          break;
        case 't':
          arg->t = g_variant_get_uint64 (child);
          break;
        case 'x':
          arg->x = g_variant_get_int64 (child);
          break;
        case 'b':
          arg->b = g_variant_get_boolean (child);
          break;
        default:
          call->containers[i] = g_steal_pointer (&child);
          arg->v = call->containers[i];
          break;
        }
    }
}

/* --- the path --------------------------------------------------------------------- */

static void
run_handler (ReservedCall *call)
{
  call->method->handler (call, call->args);
}

static void
refuse_permission (ReservedCall *call, const char *why)
{
  g_autoptr(GError) error =
               g_error_new (RESERVE_ERROR, RESERVE_ERROR_PERMISSION_DENIED, "uid %u may not %s: %s",
                            (guint) call->caller, call->method->refusal, why);

  reserved_call_fail (call, error);
}

/* Lets the calls that waited behind an answer go on, until one of them
 * has to ask in its turn. The caller's asking was cleared before the
 * answered call went on. */
static void
go_on_after_answer (ReservedDispatcher *self, uid_t caller)
{
  CallerState *state = caller_state (self, caller);
  ReservedCall *next;

  /* Nothing waited, and the answered call has ended. */
  if (state == NULL)
    return;
  /* Its calls cannot all end while it is pinned here. */
  state->calls++;
  while (!state->asking && (next = g_queue_pop_head (&state->waiting)) != NULL)
    proceed (next);
  state->calls--;
  forget_caller_if_idle (self, caller);
}

static void
on_authority_answer (GObject *source, GAsyncResult *result, gpointer user_data)
{
  ReservedCall *call = user_data;
  g_autoptr(ReservedDispatcher) self = g_object_ref (call->dispatcher);
  uid_t caller = call->caller;
  g_autoptr(GError) error = NULL;

  call->admin = reserved_authority_check_finish (RESERVED_AUTHORITY (source), result, &error);
  caller_state (self, caller)->asking = FALSE;
  if (!call->admin && call->required)
    refuse_permission (call, error->message);
  else
    run_handler (call);
  go_on_after_answer (self, caller);
}

/* Steps 4 and 5, once step 3 said whether the caller owns the target. */
static void
authorize (ReservedCall *call, gboolean owned)
{
  ReservedDispatcher *self = call->dispatcher;
  const ReservedMethod *method = call->method;
  g_autoptr(GError) error = NULL;
  gboolean interactive;

  if (owned && !method->owner_sees_own)
    {
      run_handler (call);
      return;
    }

  /* An owner who may see more is asked about quietly: listing one's own
   * orders must not bring up a password prompt. */
  call->required = !owned;
  if (reserved_authority_decide_now (self->authority, call->caller, &call->admin, &error))
    {
      if (!call->admin && call->required)
        refuse_permission (call, error->message);
      else
        run_handler (call);
      return;
    }
  interactive =
    call->required &&
    (g_dbus_message_get_flags (g_dbus_method_invocation_get_message (call->invocation)) &
     G_DBUS_MESSAGE_FLAGS_ALLOW_INTERACTIVE_AUTHORIZATION) != 0;
  caller_state (self, call->caller)->asking = TRUE;
  reserved_authority_check_async (self->authority,
                                  g_dbus_method_invocation_get_sender (call->invocation),
                                  call->caller, method->action, interactive, on_authority_answer,
                                  call);
}

void
reserved_call_owner_known (ReservedCall *call, gboolean owned, const GError *error)
{
  g_autoptr(ReservedDispatcher) self = NULL;
  uid_t caller = call->caller;

  g_return_if_fail (call->owner == OWNER_ASKING || call->owner == OWNER_WAITING);
  /* Answered from inside is_owner: proceed() goes on with it. */
  if (call->owner == OWNER_ASKING)
    {
      call->owner = OWNER_KNOWN;
      call->owned = owned;
      if (error != NULL)
        call->owner_error = g_error_copy (error);
      return;
    }
  call->owner = OWNER_KNOWN;
  self = g_object_ref (call->dispatcher);
  caller_state (self, caller)->asking = FALSE;
  if (error != NULL)
    reserved_call_fail (call, error);
  else
    authorize (call, owned);
  go_on_after_answer (self, caller);
}

/* Steps 3 to 5, once the uid is known and admitted and no earlier call of
 * that uid is waiting for an answer. */
static void
proceed (ReservedCall *call)
{
  if (call->method->access == RESERVED_ACCESS_CALLER)
    {
      run_handler (call);
      return;
    }
  if (call->method->access != RESERVED_ACCESS_OWNER)
    {
      authorize (call, FALSE);
      return;
    }
  /* The owner is read from the store, off the main loop: the caller's
   * later calls wait behind this one meanwhile. */
  call->owner = OWNER_ASKING;
  call->method->is_owner (call);
  if (call->owner == OWNER_ASKING)
    {
      call->owner = OWNER_WAITING;
      caller_state (call->dispatcher, call->caller)->asking = TRUE;
      return;
    }
  if (call->owner_error != NULL)
    {
      g_autoptr(GError) error = g_steal_pointer (&call->owner_error);

      reserved_call_fail (call, error);
      return;
    }
  authorize (call, call->owned);
}

/* Counts @call against its caller's limit and takes it on, or refuses it
 * when the caller is at the limit. */
static void
admit (ReservedCall *call)
{
  ReservedDispatcher *self = call->dispatcher;
  CallerState *state = caller_state (self, call->caller);
  g_autoptr(GError) error = NULL;

  if (state == NULL)
    {
      state = g_new0 (CallerState, 1);
      g_queue_init (&state->waiting);
      g_hash_table_insert (self->caller_states, GUINT_TO_POINTER ((guint) call->caller), state);
    }
  if (state->calls >= RESERVE_CALLS_IN_FLIGHT_MAX)
    {
      if (!state->refusal_logged)
        {
          g_message ("uid %u has %u calls in flight, the limit; its further calls are refused "
                     "until some are answered",
                     (guint) call->caller, state->calls);
          state->refusal_logged = TRUE;
        }
      error = g_error_new (G_DBUS_ERROR, G_DBUS_ERROR_LIMITS_EXCEEDED,
                           "uid %u already has %u calls in flight, and the limit per uid is %u: "
                           "nothing was done; retry once some are answered",
                           (guint) call->caller, state->calls, RESERVE_CALLS_IN_FLIGHT_MAX);
      reserved_call_fail (call, error);
      return;
    }
  state->calls++;
  call->counted = TRUE;
  if (state->asking)
    g_queue_push_tail (&state->waiting, call);
  else
    proceed (call);
}

typedef struct {
  ReservedDispatcher *dispatcher; /* owned */
  char *sender;
} UidQuestion;

/* Every call the sender made while its uid was asked goes on now, in the
 * order it came: a callback of the lookup may run after calls that came
 * later found the uid known already, so the calls wait here and not
 * there. */
static void
on_caller_known (GObject *source, GAsyncResult *result, gpointer user_data)
{
  UidQuestion *question = user_data;
  g_autoptr(ReservedDispatcher) self = question->dispatcher;
  g_autofree char *sender = question->sender;
  g_autoptr(GError) error = NULL;
  g_autofree char *key = NULL;
  GQueue *calls = NULL;
  ReservedCall *call;
  uid_t caller = (uid_t) -1;
  gboolean known;

  g_free (question);
  known = reserved_callers_lookup_finish (RESERVED_CALLERS (source), result, &caller, &error);
  g_hash_table_steal_extended (self->awaiting_uid, sender, (gpointer *) &key, (gpointer *) &calls);
  while ((call = g_queue_pop_head (calls)) != NULL)
    {
      if (!known)
        {
          reserved_call_fail (call, error);
          continue;
        }
      call->caller = caller;
      admit (call);
    }
  g_queue_free (calls);
}

static void
find_caller (ReservedDispatcher *self, ReservedCall *call)
{
  const char *sender = g_dbus_method_invocation_get_sender (call->invocation);
  GQueue *calls = g_hash_table_lookup (self->awaiting_uid, sender);
  UidQuestion *question;

  if (calls != NULL)
    {
      g_queue_push_tail (calls, call);
      return;
    }
  /* A known caller goes straight on; only a new connection waits for the
   * bus to say who it is. */
  if (reserved_callers_lookup_cached (self->callers, sender, &call->caller))
    {
      admit (call);
      return;
    }
  calls = g_queue_new ();
  g_queue_push_tail (calls, call);
  g_hash_table_insert (self->awaiting_uid, g_strdup (sender), calls);
  question = g_new0 (UidQuestion, 1);
  question->dispatcher = g_object_ref (self);
  question->sender = g_strdup (sender);
  reserved_callers_lookup_async (self->callers, sender, on_caller_known, question);
}

void
reserved_dispatcher_dispatch (ReservedDispatcher *self, GDBusMethodInvocation *invocation)
{
  const char *name = g_dbus_method_invocation_get_method_name (invocation);
  const ReservedMethod *method = g_hash_table_lookup (self->methods_by_name, name);
  ReservedCall *call;
  g_autoptr(GError) error = NULL;

  if (method == NULL)
    {
      g_dbus_method_invocation_return_error (invocation, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_METHOD,
                                             "%s is not implemented by this daemon", name);
      return;
    }

  call = g_new0 (ReservedCall, 1);
  call->dispatcher = g_object_ref (self);
  g_object_ref (self->handler_object);
  call->method = method;
  call->invocation = invocation;
  call->caller = RESERVED_AUDIT_NO_UID; /* until the bus says */
  self->in_flight++;
  unpack_arguments (call);

  if (method->check != NULL && !method->check (call->args, &error))
    reserved_call_fail (call, error);
  else if (method->access == RESERVED_ACCESS_ANYONE)
    run_handler (call);
  else
    find_caller (self, call);
}

guint
reserved_dispatcher_get_in_flight (ReservedDispatcher *self)
{
  return self->in_flight;
}

ReservedCallers *
reserved_dispatcher_get_callers (ReservedDispatcher *self)
{
  return self->callers;
}

void
reserved_dispatcher_stop (ReservedDispatcher *self)
{
  if (self->stopping)
    return;
  self->stopping = TRUE;
  if (self->in_flight == 0)
    g_signal_emit (self, signals[SIGNAL_DRAINED], 0);
}

ReservedDispatcher *
reserved_dispatcher_new (GDBusInterfaceInfo *interface_info,
                         const ReservedMethod *methods,
                         guint n_methods,
                         ReservedCallers *callers,
                         ReservedAuthority *authority,
                         GObject *handler_object)
{
  ReservedDispatcher *self = g_object_new (RESERVED_TYPE_DISPATCHER, NULL);

  for (guint i = 0; i < n_methods; i++)
    {
      /* A row must name a method of the XML and say who may call it. */
      g_assert (g_dbus_interface_info_lookup_method (interface_info, methods[i].name) != NULL);
      g_assert (methods[i].handler != NULL);
      g_assert ((methods[i].access == RESERVED_ACCESS_OWNER) == (methods[i].is_owner != NULL));
      g_assert ((methods[i].access >= RESERVED_ACCESS_OWNER) ==
                (methods[i].action != NULL && methods[i].refusal != NULL));
      g_hash_table_insert (self->methods_by_name, (gpointer) methods[i].name,
                           (gpointer) &methods[i]);
    }
  self->callers = g_object_ref (callers);
  self->authority = g_object_ref (authority);
  self->handler_object = handler_object;
  return self;
}

static void
reserved_dispatcher_dispose (GObject *object)
{
  ReservedDispatcher *self = RESERVED_DISPATCHER (object);

  g_clear_object (&self->callers);
  g_clear_object (&self->authority);
  G_OBJECT_CLASS (reserved_dispatcher_parent_class)->dispose (object);
}

static void
reserved_dispatcher_finalize (GObject *object)
{
  ReservedDispatcher *self = RESERVED_DISPATCHER (object);

  g_hash_table_unref (self->methods_by_name);
  g_hash_table_unref (self->caller_states);
  g_hash_table_unref (self->awaiting_uid);
  G_OBJECT_CLASS (reserved_dispatcher_parent_class)->finalize (object);
}

static void
reserved_dispatcher_class_init (ReservedDispatcherClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = reserved_dispatcher_dispose;
  object_class->finalize = reserved_dispatcher_finalize;
  signals[SIGNAL_DRAINED] = g_signal_new ("drained", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                          0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
reserved_dispatcher_init (ReservedDispatcher *self)
{
  self->methods_by_name = g_hash_table_new (g_str_hash, g_str_equal);
  self->caller_states =
    g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL, (GDestroyNotify) caller_state_free);
  self->awaiting_uid = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
}
