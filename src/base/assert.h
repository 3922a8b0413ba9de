/* SF_ASSERT: internal invariants of the core, checked without the C
 * library's assert(), whose failure message pulls printf into a firmware
 * image (about 7 KB of newlib on a Cortex-M). A failed check calls
 * sf_assert_fail(), which reports through the hook the application set (if
 * any) and then stops the program with a trap instruction.
 *
 * Wire input is never asserted on (it is dropped, counted and traced);
 * these guard only the engine's own bookkeeping. Defining SF_NO_ASSERT
 * compiles the checks out; SF_ASSERT_TERSE keeps them but passes no
 * expression or file text (each check then costs a few bytes of code). */
#ifndef SF_BASE_ASSERT_H
#define SF_BASE_ASSERT_H

#include "synfin/error.h"

#if defined(SF_NO_ASSERT)
#define SF_ASSERT(cond) ((void)0)
#elif defined(SF_ASSERT_TERSE)
#define SF_ASSERT(cond) ((cond) ? (void)0 : sf_assert_fail(0, 0, __LINE__))
#else
#define SF_ASSERT(cond) ((cond) ? (void)0 : sf_assert_fail(#cond, __FILE__, __LINE__))
#endif

#endif
