/* The failure path of SF_ASSERT (src/base/assert.h): the application's hook
 * (sf_set_assert_hook, include/synfin/error.h), then a trap. No stdio: a
 * host program that wants the message printed installs a hook that prints
 * it (the synfin command and the tests do). */
#include "base/assert.h"

static sf_assert_hook_t assert_hook;

void sf_set_assert_hook(sf_assert_hook_t hook)
{
	assert_hook = hook;
}

void sf_assert_fail(const char *expr, const char *file, int line)
{
	if (assert_hook)
		assert_hook(expr, file, line);
	__builtin_trap();
}
