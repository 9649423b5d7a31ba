#include <stdlib.h>

#include "tests/unit/unit.h"

static UnitSuiteFn suites[128];
static int nsuites;

void unit_register_suite(UnitSuiteFn fn)
{
    if (nsuites < (int)(sizeof(suites) / sizeof(suites[0])))
        suites[nsuites++] = fn;
}

int main(void)
{
    SRunner *sr = srunner_create(NULL);
    for (int i = 0; i < nsuites; i++)
        srunner_add_suite(sr, suites[i]());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
