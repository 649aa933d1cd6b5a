/*
 * test_xbstate.c - cmocka tests of the XenbusState table
 * (proto/xbstate.c): names, parsing of store values, and the
 * backend's reaction to each frontend state (connect, close, reconnect).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "proto/xbstate.h"

/* State names, including out-of-range values. */
static void names(void **state)
{
    (void)state;
    assert_string_equal(xbstate_name(XenbusStateInitWait), "InitWait");
    assert_string_equal(xbstate_name(XenbusStateClosed), "Closed");
    assert_string_equal(xbstate_name(9), "Invalid");
    assert_string_equal(xbstate_name(-1), "Invalid");
}

/* Store values that are and are not states. */
static void parse(void **state)
{
    (void)state;
    assert_int_equal(xbstate_parse("4", 1), 4);
    assert_int_equal(xbstate_parse("08", 2), 8);
    assert_int_equal(xbstate_parse("9", 1), -1);
    assert_int_equal(xbstate_parse("", 0), -1);
    assert_int_equal(xbstate_parse("4x", 2), -1);
    assert_int_equal(xbstate_parse("123", 3), -1);
}

/* The backend action for each (backend, frontend) pair. */
static void backend_reactions(void **state)
{
    static const struct { int be, fe; enum xbact want; } cases[] = {
        { XenbusStateInitWait, XenbusStateInitialising, XBACT_NONE },
        { XenbusStateInitWait, XenbusStateInitialised, XBACT_CONNECT },
        { XenbusStateInitWait, XenbusStateConnected, XBACT_CONNECT },
        { XenbusStateConnected, XenbusStateConnected, XBACT_NONE },
        { XenbusStateConnected, XenbusStateClosing, XBACT_CLOSING },
        { XenbusStateClosing, XenbusStateClosed, XBACT_CLOSED },
        { XenbusStateConnected, XenbusStateUnknown, XBACT_CLOSED },
        { XenbusStateClosed, XenbusStateClosed, XBACT_NONE },
        { XenbusStateClosed, XenbusStateInitialising, XBACT_RESET },
        { XenbusStateClosing, XenbusStateInitialising, XBACT_RESET },
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        assert_int_equal(xbstate_backend_action(cases[i].be, cases[i].fe), cases[i].want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(names),
        cmocka_unit_test(parse),
        cmocka_unit_test(backend_reactions),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
