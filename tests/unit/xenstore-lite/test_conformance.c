/*
 * test_conformance: XenStore conformance scenarios as data. Every script
 * of conformance.txt (transaction isolation and conflicts, watches,
 * permissions, ownership, quotas, the domain lifecycle, unknown types) is
 * one cmocka test, run against a fresh in-process daemon; harness.h holds
 * the step language and the reader. Invariant: a script passes only if
 * every reply and event matches, and the store checks clean afterwards.
 */
#include "harness.h"

/* Run the script handed in as the test's state on a fresh world. */
static void run_scenario(void **state)
{
	const struct script *s = *state;
	struct world *w = world_new();

	run_script_steps(w, s);
	world_free(w);
}

int main(void)
{
	struct scripts ss;
	struct CMUnitTest *tests;
	int rc;

	scripts_load("conformance.txt", &ss);
	tests = calloc(ss.n, sizeof(*tests));
	assert_non_null(tests);
	for (size_t i = 0; i < ss.n; i++)
		tests[i] = (struct CMUnitTest){ .name = ss.s[i].name, .test_func = run_scenario,
						.initial_state = &ss.s[i] };
	rc = _cmocka_run_group_tests("conformance", tests, ss.n, NULL, NULL);
	free(tests);
	scripts_free(&ss);
	return rc;
}
