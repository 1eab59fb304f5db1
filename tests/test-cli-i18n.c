/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `reserve` in Chinese: run under LANG=zh_CN.UTF-8 against the real daemon
 * on a private bus, with the zh_CN.UTF-8 locale the build compiled
 * ($RESERVED_TEST_LOCPATH, given to reserve as LOCPATH) and the catalogues
 * built in po/ ($RESERVE_LOCALEDIR). Its help, its messages, the hold
 * commands and the race's verdicts must come out translated. */
#include "config.h"

#include <string.h>

#include "reserved-test-cli.h"
#include "reserved-test-daemon.h"
#include "reserved-test-main.h"

typedef ReservedTestCliFixture Fixture;

static ReservedTestRun *
run_chinese (int expected_exit, const char *first_arg, ...) G_GNUC_NULL_TERMINATED;

/* Runs reserve as someone whose language is Chinese; fails unless it
 * exits with @expected_exit. */
static ReservedTestRun *
run_chinese (int expected_exit, const char *first_arg, ...)
{
  const char *locpath = g_getenv ("RESERVED_TEST_LOCPATH");
  const char *const env[] = { "LANG", "zh_CN.UTF-8", "LC_ALL", "zh_CN.UTF-8", "LANGUAGE",
                              "",     "LOCPATH",     locpath,  NULL };
  ReservedTestRun *run;
  va_list args;

  if (locpath == NULL || g_getenv ("RESERVE_LOCALEDIR") == NULL)
    g_error ("RESERVED_TEST_LOCPATH and RESERVE_LOCALEDIR are not set: run the tests with "
             "`meson test`");
  va_start (args, first_arg);
  run = reserved_test_run_reserve_va (env, first_arg, args);
  va_end (args);
  reserved_test_assert_exit (run, expected_exit);
  return run;
}

/* The columns a terminal gives @line: two for a wide character. */
static gsize
columns (const char *line)
{
  gsize width = 0;

  for (const char *p = line; *p != '\0'; p = g_utf8_next_char (p))
    width += g_unichar_iswide (g_utf8_get_char (p)) ? 2 : 1;
  return width;
}

static void
test_help (Fixture *fixture, gconstpointer data)
{
  g_autoptr(ReservedTestRun) main_help = run_chinese (0, "--help", NULL);
  g_autoptr(ReservedTestRun) buy_help = run_chinese (0, "buy", "--help", NULL);

  reserved_test_assert_contains (main_help->out, "用法：\n  reserve [选项…] 命令 [选项…]\n");
  reserved_test_assert_contains (
    main_help->out, "  buy       为顾客购买某商品的若干件，要么全部成功，要么全部不买。\n");
  reserved_test_assert_contains (main_help->out, "退出状态：\n  0  成功\n");
  reserved_test_assert_contains (buy_help->out, "  -u, --user=NAME      购买的顾客（必填）\n");
  reserved_test_assert_contains (buy_help->out, "连接会话总线上的 reserved");
}

static void
test_messages (Fixture *fixture, gconstpointer data)
{
  g_autoptr(ReservedTestRun) buy =
               run_chinese (0, "buy", "--session", "--user", "alice", "--quantity", "2", NULL);
  g_autoptr(ReservedTestRun) status = run_chinese (0, "status", "--session", NULL);
  g_autoptr(ReservedTestRun) mistyped = run_chinese (2, "stauts", NULL);
  g_autoptr(ReservedTestRun) bad_number =
               run_chinese (2, "buy", "--session", "--user", "alice", "--quantity", "0", NULL);
  g_autoptr(ReservedTestRun) created =
               run_chinese (0, "create", "--session", "gala", "--capacity", "3", NULL);

  g_assert_true (
    g_regex_match_simple ("^订单 [0-9]+：alice 购买了 2 × ticket；剩余 98。\n$", buy->out, 0, 0));
  g_assert_cmpstr (status->out, ==,
                   "商品：        ticket\n"
                   "容量：        100\n"
                   "剩余：        98\n"
                   "已售：        2\n"
                   "每人限购：    无\n");
  g_assert_cmpstr (mistyped->err, ==,
                   "reserve: 未知命令“stauts”；您是不是想输入“status”？\n试试“reserve --help”。\n");
  reserved_test_assert_contains (bad_number->err,
                                 "reserve: --quantity “0” 超出范围：允许 1 到 10000\n");
  g_assert_cmpstr (created->out, ==, "已创建 gala，共 3 件。\n");
}

/* The lesson in Chinese: the table, the verdicts, within 80 columns. */
static void
test_race_verdicts (Fixture *fixture, gconstpointer data)
{
  g_autoptr(ReservedTestRun) race = run_chinese (0, "race", "--session", NULL);
  g_auto(GStrv) lines = NULL;

  reserved_test_assert_contains (race->out, "模式         买家  库存  售出  超卖  丢失更新");
  /* How many buyers the raw file fooled depends on how the race ran. */
  reserved_test_assert_contains (race->out, "file:        超卖：");
  reserved_test_assert_contains (race->out, " 个买家被告知买到了仅有的 1 张票；文件显示剩余 ");
  reserved_test_assert_contains (race->out, "locked-file: 正确但串行：售出 1，");
  reserved_test_assert_contains (race->out,
                                 "sqlite:      正确：售出 1，数据库记录了 1 笔销售，剩余 0；");
  reserved_test_assert_contains (
    race->out, "dbus:        正确且并发：售出 1，守护进程记录了 1 笔销售，剩余 0。\n");
  lines = g_strsplit (race->out, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    if (columns (lines[i]) > 80)
      g_error ("a line is %zu columns wide:\n%s", columns (lines[i]), lines[i]);
}

/* The benchmark's report too: its table and its check, with --hold too. */
static void
test_bench_report (Fixture *fixture, gconstpointer data)
{
  g_autoptr(ReservedTestRun) bench =
               run_chinese (0, "bench", "--session", "--buyers", "1", "--calls", "5", NULL);
  g_autoptr(ReservedTestRun) with_holds = run_chinese (0, "bench", "--session", "--buyers", "1",
                                                        "--calls", "5", "--hold", NULL);

  reserved_test_assert_contains (bench->out, "1 个买家，每个阶段各调用 5 次，在 session 总线上；");
  reserved_test_assert_contains (bench->out, "阶段      方法");
  reserved_test_assert_contains (bench->out, "检查：剩余 ");
  reserved_test_assert_contains (bench->out, "：成立\n错误：无\n");
  reserved_test_assert_contains (with_holds->out, "Hold+Confirm / Buy：每秒销售数是 ");
  reserved_test_assert_contains (with_holds->out, "：成立\n错误：无\n");
}

/* The hold commands: a hold, the list of holds, its confirmation into an
 * order (and the orders' table), an extension, a release, and a usage
 * error of the semaphore mode. */
static void
test_holds (Fixture *fixture, gconstpointer data)
{
  g_autoptr(ReservedTestRun) held =
               run_chinese (0, "hold", "--session", "--user", "alice", "--quantity", "2", NULL);
  g_autoptr(ReservedTestRun) listed = run_chinese (0, "holds", "--session", NULL);
  g_autoptr(ReservedTestRun) confirmed = NULL;
  g_autoptr(ReservedTestRun) orders = NULL;
  g_autoptr(ReservedTestRun) second = NULL;
  g_autoptr(ReservedTestRun) extended = NULL;
  g_autoptr(ReservedTestRun) released = NULL;
  g_autoptr(ReservedTestRun) no_command =
               run_chinese (2, "hold", "--session", "--user", "alice", "--wait", NULL);
  g_autofree char *id = NULL;
  g_autofree char *second_id = NULL;
  g_autofree char *confirmed_line = NULL;
  g_autofree char *extended_line = NULL;
  g_autofree char *released_line = NULL;

  id = reserved_test_match_id ("^预留 ([0-9]+)：为 alice 预留 2 × ticket，过期时间：", held->out);
  reserved_test_assert_contains (held->out, "；剩余 98。\n");

  g_assert_true (g_regex_match_simple ("^预留  商品 +顾客 +数量  过期时间\n", listed->out, 0, 0));
  reserved_test_assert_contains (listed->out, "alice");

  confirmed = run_chinese (0, "confirm", "--session", id, NULL);
  confirmed_line = g_strdup_printf ("预留 %s 已确认为订单 ", id);
  g_assert_true (g_str_has_prefix (confirmed->out, confirmed_line));
  reserved_test_assert_contains (confirmed->out, "；剩余 98。\n");

  orders = run_chinese (0, "orders", "--session", "--user", "alice", NULL);
  g_assert_true (g_regex_match_simple ("^订单  商品 +数量  下单时间 +状态\n", orders->out, 0, 0));

  second = run_chinese (0, "hold", "--session", "--user", "bob", NULL);
  second_id = reserved_test_match_id ("^预留 ([0-9]+)：", second->out);
  extended = run_chinese (0, "extend", "--session", second_id, "--ttl", "60", NULL);
  extended_line = g_strdup_printf ("预留 %s 的过期时间现在是 ", second_id);
  g_assert_true (g_str_has_prefix (extended->out, extended_line));
  released = run_chinese (0, "release", "--session", second_id, NULL);
  released_line = g_strdup_printf ("预留 %s 已释放；其商品剩余 98。\n", second_id);
  g_assert_cmpstr (released->out, ==, released_line);

  reserved_test_assert_contains (
    no_command->err, "reserve: --wait 需要一个要运行的命令：reserve hold --wait -- 命令…\n");
}

static void
add_cases (void)
{
#define ADD RESERVED_TEST_CLI_ADD

  ADD ("/cli-i18n/help", test_help);
  ADD ("/cli-i18n/messages", test_messages);
  ADD ("/cli-i18n/race-verdicts", test_race_verdicts);
  ADD ("/cli-i18n/bench-report", test_bench_report);
  ADD ("/cli-i18n/holds", test_holds);

#undef ADD
}

RESERVED_TEST_MAIN (add_cases, NULL)
