/*
 * test_conformance: XenStore conformance scenarios as table tests, modelled
 * on the published oxenstored unit-test cases (transaction isolation and
 * conflicts, watches, permissions, ownership) plus the obligations Linux's
 * xenbus relies on (docs/linux-pv-interface.md §2). Each table runs
 * against a fresh in-process daemon; see harness.h for the step language.
 */
#include "harness.h"

/* Every test here is a step table run on a fresh world (harness.h): one shape for all, by design. */
#define T(name) static void name(void **state)

T(transaction_isolation)
{
	static const struct step s[] = {
		{ 0, XS_WRITE, 0, "/a|1", "OK" },
		{ 0, XS_TRANSACTION_START, 0, "", "TX1" },
		{ 0, XS_READ, 1, "/a", "1" },
		{ 1, XS_WRITE, 0, "/a|2", "OK" },
		{ 0, XS_READ, 1, "/a", "1" },
		{ 0, XS_WRITE, 1, "/b|tx", "OK" },
		{ 0, XS_READ, 1, "/b", "tx" },
		{ 1, XS_READ, 0, "/b", "E:ENOENT" },
		{ 0, XS_TRANSACTION_END, 1, "T", "E:EAGAIN" },
		{ 1, XS_READ, 0, "/b", "E:ENOENT" },
		{ 1, XS_READ, 0, "/a", "2" },
	};
	struct world *w = world_new();

	(void)state;
	RUN(w, s);
	world_free(w);
}

T(eagain_on_conflict)
{
	static const struct step s[] = {
		{ 0, XS_WRITE, 0, "/c/x|1", "OK" },
		/* conflicting write */
		{ 0, XS_TRANSACTION_START, 0, "", "TX1" },
		{ 0, XS_READ, 1, "/c/x", "1" },
		{ 0, XS_WRITE, 1, "/c/x|2", "OK" },
		{ 1, XS_WRITE, 0, "/c/x|3", "OK" },
		{ 0, XS_TRANSACTION_END, 1, "T", "E:EAGAIN" },
		{ 0, XS_READ, 0, "/c/x", "3" },
		/* conflicting delete */
		{ 0, XS_TRANSACTION_START, 0, "", "TX2" },
		{ 0, XS_READ, 2, "/c/x", "3" },
		{ 1, XS_RM, 0, "/c/x", "OK" },
		{ 0, XS_TRANSACTION_END, 2, "T", "E:EAGAIN" },
		/* directory listed, then a child appears */
		{ 0, XS_TRANSACTION_START, 0, "", "TX3" },
		{ 0, XS_DIRECTORY, 3, "/c", "" },
		{ 1, XS_WRITE, 0, "/c/new|n", "OK" },
		{ 0, XS_WRITE, 3, "/other|o", "OK" },
		{ 0, XS_TRANSACTION_END, 3, "T", "E:EAGAIN" },
		{ 0, XS_READ, 0, "/other", "E:ENOENT" },
		/* a retry after EAGAIN commits */
		{ 0, XS_TRANSACTION_START, 0, "", "TX4" },
		{ 0, XS_DIRECTORY, 4, "/c", "new|" },
		{ 0, XS_WRITE, 4, "/other|o", "OK" },
		{ 0, XS_TRANSACTION_END, 4, "T", "OK" },
		{ 0, XS_READ, 0, "/other", "o" },
	};
	struct world *w = world_new();

	(void)state;
	RUN(w, s);
	world_free(w);
}

T(independent_transactions_commit)
{
	static const struct step s[] = {
		{ 0, XS_MKDIR, 0, "/d", "OK" },
		{ 0, XS_TRANSACTION_START, 0, "", "TX1" },
		{ 1, XS_TRANSACTION_START, 0, "", "TX2" },
		{ 0, XS_WRITE, 1, "/d/x|1", "OK" },
		{ 1, XS_WRITE, 2, "/d/y|2", "OK" },
		{ 0, XS_TRANSACTION_END, 1, "T", "OK" },
		{ 1, XS_TRANSACTION_END, 2, "T", "OK" },
		{ 0, XS_DIRECTORY, 0, "/d", "x|y|" },
		{ 0, XS_READ, 0, "/d/y", "2" },
	};
	struct world *w = world_new();

	(void)state;
	RUN(w, s);
	world_free(w);
}

T(watch_fires_on_registration)
{
	static const struct step s[] = {
		{ 0, XS_WATCH, 0, "/not/there|tok", "OK" },
		{ 0, EV, 0, "/not/there|tok", NULL },
		{ 0, NOEV, 0, NULL, NULL },
		{ 1, XS_WRITE, 0, "/not/there/now|1", "OK" },
		{ 0, EV, 0, "/not/there/now|tok", NULL },
		{ 0, XS_WATCH, 0, "/not/there|tok", "OK" },
		{ 0, EV, 0, "/not/there|tok", NULL },
		{ 0, XS_UNWATCH, 0, "/not/there|tok", "OK" },
		{ 1, XS_WRITE, 0, "/not/there/now|2", "OK" },
		{ 0, NOEV, 0, NULL, NULL },
	};
	struct world *w = world_new();

	(void)state;
	RUN(w, s);
	world_free(w);
}

T(relative_watches)
{
	static const struct step s[] = {
		{ 2, XS_WATCH, 0, "device|t", "OK" },
		{ 2, EV, 0, "device|t", NULL },
		{ 0, XS_WRITE, 0, "/local/domain/1/device/vbd/51712/state|1", "OK" },
		{ 2, EV, 0, "device/vbd/51712/state|t", NULL },
		{ 2, XS_WRITE, 0, "device/vbd/51712/state|4", "OK" },
		{ 2, EV, 0, "device/vbd/51712/state|t", NULL },
		{ 2, XS_READ, 0, "device/vbd/51712/state", "4" },
		{ 2, XS_WATCH, 0, "/local/domain/1/device|abs", "OK" },
		{ 2, EV, 0, "/local/domain/1/device|abs", NULL },
		{ 0, XS_RM, 0, "/local/domain/1/device", "OK" },
		{ 2, EV, 0, "/local/domain/1/device|abs", NULL },
		{ 2, EV, 0, "device|t", NULL },
		{ 2, NOEV, 0, NULL, NULL },
	};
	struct world *w = world_new();

	(void)state;
	RUN(w, s);
	world_free(w);
}

T(events_only_on_commit)
{
	static const struct step s[] = {
		{ 1, XS_WATCH, 0, "/e|w", "OK" },
		{ 1, EV, 0, "/e|w", NULL },
		{ 0, XS_TRANSACTION_START, 0, "", "TX1" },
		{ 0, XS_WRITE, 1, "/e/x|1", "OK" },
		{ 1, NOEV, 0, NULL, NULL },
		{ 0, XS_TRANSACTION_END, 1, "F", "OK" },
		{ 1, NOEV, 0, NULL, NULL },
		{ 0, XS_READ, 0, "/e/x", "E:ENOENT" },
		{ 0, XS_TRANSACTION_START, 0, "", "TX2" },
		{ 0, XS_WRITE, 2, "/e/y|1", "OK" },
		{ 1, NOEV, 0, NULL, NULL },
		{ 0, XS_TRANSACTION_END, 2, "T", "OK" },
		{ 1, EV, 0, "/e/y|w", NULL },
		{ 1, NOEV, 0, NULL, NULL },
	};
	struct world *w = world_new();

	(void)state;
	RUN(w, s);
	world_free(w);
}

T(unprivileged_permission_denial)
{
	static const struct step s[] = {
		{ 3, XS_WRITE, 0, "secret|s", "OK" },
		{ 2, XS_READ, 0, "/local/domain/2/secret", "E:EACCES" },
		{ 2, XS_WRITE, 0, "/local/domain/2/secret|x", "E:EACCES" },
		{ 2, XS_WRITE, 0, "/local/domain/2/new|x", "E:EACCES" },
		{ 2, XS_RM, 0, "/local/domain/2/secret", "E:EACCES" },
		{ 2, XS_DIRECTORY, 0, "/local/domain/2", "E:EACCES" },
		{ 2, XS_GET_PERMS, 0, "/local/domain/2/secret", "E:EACCES" },
		/* absence is told only to whom may read the nearest existing
		 * ancestor (xenstored's errno_from_parents) */
		{ 2, XS_READ, 0, "/local/domain/2/none", "E:EACCES" },
		{ 2, XS_READ, 0, "/local/domain/2/none/deeper", "E:EACCES" },
		{ 2, XS_READ, 0, "/local/domain/1/none", "E:ENOENT" },
		{ 0, XS_READ, 0, "/local/domain/2/none", "E:ENOENT" },
		{ 2, XS_WRITE, 0, "/top|x", "E:EACCES" },
		{ 2, XS_MKDIR, 0, "/local/domain/2", "E:EACCES" },
		{ 2, XS_MKDIR, 0, "/local/domain/1", "OK" },
		{ 2, XS_INTRODUCE, 0, "5|0|1", "E:EACCES" },
		{ 2, XS_CONTROL, 0, "check", "E:EACCES" },
		{ 2, XS_GET_DOMAIN_PATH, 0, "2", "/local/domain/2|" },
		{ 0, XS_READ, 0, "/local/domain/2/secret", "s" },
		/* implicit parents a domU creates are its own */
		{ 2, XS_WRITE, 0, "a/b/c|v", "OK" },
		{ 2, XS_GET_PERMS, 0, "a/b", "n1|" },
		/* explicit grants */
		{ 3, XS_SET_PERMS, 0, "secret|n2|r1", "OK" },
		{ 2, XS_READ, 0, "/local/domain/2/secret", "s" },
		{ 2, XS_WRITE, 0, "/local/domain/2/secret|x", "E:EACCES" },
	};
	struct world *w = world_new();

	(void)state;
	RUN(w, s);
	world_free(w);
}

T(owner_change_only_by_dom0)
{
	static const struct step s[] = {
		{ 2, XS_WRITE, 0, "data|x", "OK" },
		{ 2, XS_SET_PERMS, 0, "data|n2", "E:EPERM" },
		{ 2, XS_SET_PERMS, 0, "data|n1|r2", "OK" },
		{ 3, XS_READ, 0, "/local/domain/1/data", "x" },
		{ 3, XS_SET_PERMS, 0, "/local/domain/1/data|n2", "E:EACCES" },
		{ 0, XS_SET_PERMS, 0, "/local/domain/1/data|n2", "OK" },
		{ 2, XS_READ, 0, "data", "E:EACCES" },
		{ 2, XS_SET_PERMS, 0, "data|n1", "E:EACCES" },
		{ 3, XS_READ, 0, "/local/domain/1/data", "x" },
	};
	struct world *w = world_new();

	(void)state;
	RUN(w, s);
	world_free(w);
}

T(watch_needs_read_permission)
{
	static const struct step s[] = {
		{ 3, XS_WATCH, 0, "/local/domain/1|spy", "OK" },
		{ 3, EV, 0, "/local/domain/1|spy", NULL },
		{ 2, XS_WRITE, 0, "private|x", "OK" },
		{ 3, NOEV, 0, NULL, NULL },
		{ 2, XS_WRITE, 0, "public|x", "OK" },
		{ 2, XS_SET_PERMS, 0, "public|n1|r2", "OK" },
		{ 3, EV, 0, "/local/domain/1/public|spy", NULL },
	};
	struct world *w = world_new();

	(void)state;
	RUN(w, s);
	world_free(w);
}

T(set_target)
{
	static const struct step s[] = {
		{ 2, XS_WRITE, 0, "data|x", "OK" },
		{ 3, XS_READ, 0, "/local/domain/1/data", "E:EACCES" },
		{ 2, XS_SET_TARGET, 0, "2|1", "E:EACCES" },
		{ 0, XS_SET_TARGET, 0, "2|77", "E:ENOENT" },
		{ 0, XS_SET_TARGET, 0, "2|1", "OK" },
		{ 3, XS_READ, 0, "/local/domain/1/data", "x" },
		{ 3, XS_WRITE, 0, "/local/domain/1/data|y", "OK" },
		{ 2, XS_READ, 0, "data", "y" },
	};
	struct world *w = world_new();

	(void)state;
	RUN(w, s);
	world_free(w);
}

T(tree_semantics)
{
	static const struct step s[] = {
		{ 0, XS_WRITE, 0, "/t/leaf|v", "OK" },
		{ 0, XS_DIRECTORY, 0, "/t/leaf", "" },
		{ 0, XS_DIRECTORY, 0, "/t/none", "E:ENOENT" },
		{ 0, XS_READ, 0, "/t", "" },
		{ 0, XS_WRITE, 0, "/t/empty|", "OK" },
		{ 0, XS_READ, 0, "/t/empty", "" },
		{ 0, XS_MKDIR, 0, "/t/leaf", "OK" },
		{ 0, XS_READ, 0, "/t/leaf", "v" },
		{ 0, XS_RM, 0, "/t/nope", "OK" },
		{ 0, XS_RM, 0, "/t/no/such", "E:ENOENT" },
		{ 0, XS_GET_PERMS, 0, "/", "n0|" },
		{ 1, XS_WATCH, 0, "/t/leaf|w", "OK" },
		{ 1, EV, 0, "/t/leaf|w", NULL },
		{ 1, XS_WATCH, 0, "/t|up", "OK" },
		{ 1, EV, 0, "/t|up", NULL },
		{ 0, XS_RM, 0, "/t", "OK" },
		{ 1, EV, 0, "/t|up", NULL },
		{ 1, EV, 0, "/t/leaf|w", NULL },
		{ 0, XS_DIRECTORY, 0, "/", "local|" },
		{ 1, XS_RESET_WATCHES, 0, "", "OK" },
		{ 0, XS_WRITE, 0, "/t|x", "OK" },
		{ 1, NOEV, 0, NULL, NULL },
		{ 0, XS_GET_DOMAIN_PATH, 0, "7", "/local/domain/7|" },
		{ 0, XS_IS_DOMAIN_INTRODUCED, 0, "1", "T|" },
		{ 0, XS_IS_DOMAIN_INTRODUCED, 0, "9", "F|" },
		{ 0, XS_DIRECTORY_PART, 0, "/local/domain/9|0", "E:ENOENT" },
	};
	struct world *w = world_new();

	(void)state;
	RUN(w, s);
	world_free(w);
}

T(transaction_remove_and_recreate)
{
	static const struct step s[] = {
		{ 0, XS_WRITE, 0, "/r/a/b|1", "OK" },
		{ 0, XS_WRITE, 0, "/r/keep|k", "OK" },
		{ 1, XS_WATCH, 0, "/r/a/b|w", "OK" },
		{ 1, EV, 0, "/r/a/b|w", NULL },
		{ 0, XS_TRANSACTION_START, 0, "", "TX1" },
		{ 0, XS_RM, 1, "/r/a", "OK" },
		{ 0, XS_READ, 1, "/r/a/b", "E:ENOENT" },
		{ 0, XS_DIRECTORY, 1, "/r", "keep|" },
		{ 0, XS_WRITE, 1, "/r/a/c|2", "OK" },
		{ 0, XS_DIRECTORY, 1, "/r/a", "c|" },
		{ 0, XS_READ, 0, "/r/a/b", "1" },
		{ 0, XS_TRANSACTION_END, 1, "T", "OK" },
		{ 1, EV, 0, "/r/a/b|w", NULL },
		{ 0, XS_DIRECTORY, 0, "/r/a", "c|" },
		{ 0, XS_READ, 0, "/r/a/c", "2" },
		{ 0, XS_DIRECTORY, 0, "/r", "a|keep|" },
		{ 0, XS_CONTROL, 0, "check", "OK|" },
	};
	struct world *w = world_new();

	(void)state;
	RUN(w, s);
	world_free(w);
}

T(quotas_answer_with_errors)
{
	static const struct step s[] = {
		{ 2, XSL_SET_QUOTA, 0, "1|nodes|3", "E:EACCES" },
		{ 0, XSL_SET_QUOTA, 0, "1|nodes|3", "OK" },
		{ 0, XSL_GET_QUOTA, 0, "1|nodes", "3|" },
		{ 0, XSL_GET_QUOTA, 0, "nodes", "1000|" },
		{ 0, XSL_GET_QUOTA, 0, "", "nodes watches transactions transaction-nodes node-size "
					  "permissions memory outstanding output-buffer|" },
		{ 2, XS_WRITE, 0, "q/x|1", "OK" },
		{ 2, XS_WRITE, 0, "q/y|1", "E:ENOSPC" },
		{ 2, XS_WRITE, 0, "q/x|2", "OK" },
		{ 0, XSL_SET_QUOTA, 0, "1|node-size|16", "OK" },
		{ 2, XS_WRITE, 0, "q/x|0123456789abcdef", "E:ENOSPC" },
		{ 0, XSL_SET_QUOTA, 0, "1|watches|1", "OK" },
		{ 2, XS_WATCH, 0, "q|1", "OK" },
		{ 2, EV, 0, "q|1", NULL },
		{ 2, XS_WATCH, 0, "q|2", "E:E2BIG" },
		{ 0, XSL_SET_QUOTA, 0, "1|transactions|1", "OK" },
		{ 2, XS_TRANSACTION_START, 0, "", "TX1" },
		{ 2, XS_TRANSACTION_START, 0, "", "E:ENOSPC" },
		{ 0, XSL_SET_QUOTA, 0, "1|permissions|1", "OK" },
		{ 2, XS_SET_PERMS, 0, "q|n1|r2", "E:ENOSPC" },
		{ 0, XSL_SET_QUOTA, 0, "1|nodes|bogus", "E:EINVAL" },
		{ 0, XSL_SET_QUOTA, 0, "1|bogus|1", "E:EINVAL" },
		{ 0, XSL_GET_QUOTA, 0, "9|nodes", "E:ENOENT" },
		{ 0, XS_WRITE, 0, "/local/domain/1/q/big|0123456789abcdefghijklmnop", "OK" },
		{ 0, XS_CONTROL, 0, "quota|watches|5", "OK|" },
		{ 0, XSL_GET_QUOTA, 0, "watches", "5|" },
		{ 0, XSL_SET_QUOTA, 0, "watches|0", "OK" },
		{ 0, XSL_SET_QUOTA, 0, "1|watches|0", "OK" },
		{ 2, EV, 0, "q/big|1", NULL },
		{ 2, XS_WATCH, 0, "q|3", "OK" },
		{ 2, EV, 0, "q|3", NULL },
	};
	struct world *w = world_new();

	(void)state;
	RUN(w, s);
	world_free(w);
}

T(domain_lifecycle)
{
	static const struct step s[] = {
		{ 1, XS_WATCH, 0, "@introduceDomain|i", "OK" },
		{ 1, EV, 0, "@introduceDomain|i", NULL },
		{ 1, XS_WATCH, 0, "@releaseDomain|r", "OK" },
		{ 1, EV, 0, "@releaseDomain|r", NULL },
		{ 2, XS_WATCH, 0, "@releaseDomain|r", "OK" },
		{ 2, EV, 0, "@releaseDomain|r", NULL },
		{ 0, XS_INTRODUCE, 0, "5|100|3", "OK" },
		{ 1, EV, 0, "@introduceDomain|i", NULL },
		{ 0, XS_INTRODUCE, 0, "5|100|3", "OK" },
		{ 1, NOEV, 0, NULL, NULL },
		/* as xenstored 4.17: a re-INTRODUCE rebinds (mfn ignored) */
		{ 0, XS_INTRODUCE, 0, "5|101|4", "OK" },
		{ 1, NOEV, 0, NULL, NULL },
		{ 0, XS_INTRODUCE, 0, "0|1|1", "E:EINVAL" },
		{ 0, XS_INTRODUCE, 0, "6|1|0", "E:EINVAL" },
		{ 0, XS_INTRODUCE, 0, "32752|1|1", "E:EINVAL" },
		{ 0, XS_INTRODUCE, 0, "6|1", "E:EINVAL" },
		{ 0, XS_INTRODUCE, 0, "6|x|1", "E:EINVAL" },
		{ 0, XS_IS_DOMAIN_INTRODUCED, 0, "6", "F|" },
		{ 0, XS_RESUME, 0, "5", "OK" },
		{ 0, XS_RESUME, 0, "6", "E:ENOENT" },
		{ 0, XS_RELEASE, 0, "5", "OK" },
		{ 1, EV, 0, "@releaseDomain|r", NULL },
		{ 2, NOEV, 0, NULL, NULL },
		{ 0, XS_IS_DOMAIN_INTRODUCED, 0, "5", "F|" },
		{ 0, XS_RELEASE, 0, "5", "E:ENOENT" },
	};
	struct world *w = world_new();

	(void)state;
	RUN(w, s);
	world_free(w);
}

T(unknown_types_keep_connection)
{
	static const struct step s[] = {
		{ 0, 20, 0, "x", "E:EINVAL" },
		{ 0, XS_TYPE_COUNT + 40, 0, "x", "E:EINVAL" },
		{ 0, XS_ERROR, 0, "EINVAL", "E:EINVAL" },
		{ 0, XS_TRANSACTION_END, 0, "T", "E:ENOENT" },
		{ 0, XS_TRANSACTION_START, 0, "", "TX1" },
		{ 0, XS_TRANSACTION_END, 1, "X", "E:EINVAL" },
		{ 0, XS_TRANSACTION_START, 1, "", "E:EBUSY" },
		{ 0, XS_TRANSACTION_END, 1, "F", "OK" },
		{ 0, XS_READ, 1, "/", "E:ENOENT" },
		{ 0, XS_READ, 0, "/", "" },
	};
	struct world *w = world_new();

	(void)state;
	RUN(w, s);
	world_free(w);
}

int main(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(transaction_isolation),
		cmocka_unit_test(eagain_on_conflict),
		cmocka_unit_test(independent_transactions_commit),
		cmocka_unit_test(watch_fires_on_registration),
		cmocka_unit_test(relative_watches),
		cmocka_unit_test(events_only_on_commit),
		cmocka_unit_test(unprivileged_permission_denial),
		cmocka_unit_test(owner_change_only_by_dom0),
		cmocka_unit_test(watch_needs_read_permission),
		cmocka_unit_test(set_target),
		cmocka_unit_test(tree_semantics),
		cmocka_unit_test(transaction_remove_and_recreate),
		cmocka_unit_test(quotas_answer_with_errors),
		cmocka_unit_test(domain_lifecycle),
		cmocka_unit_test(unknown_types_keep_connection),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
