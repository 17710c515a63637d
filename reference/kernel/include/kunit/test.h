/*
 * buddycheck kernel shim: <kunit/test.h>, so that a KUnit reproducer
 * (buddycheck replay --kunit) compiles against the shim as it would in a
 * tree.  The macros check their condition and count a failure with its
 * file:line in struct kunit; the page-allocator calls a reproducer makes
 * are declared in buddycheck_kernel.h.
 */
#ifndef BUDDYCHECK_KUNIT_TEST_H
#define BUDDYCHECK_KUNIT_TEST_H

#include <buddycheck_kernel.h>

struct kunit {
	int failures;
	const char *file;
	int line;
};

struct kunit_case {
	void (*run_case)(struct kunit *test);
	const char *name;
};

struct kunit_suite {
	const char *name;
	struct kunit_case *test_cases;
};

#define KUNIT_CASE(fn)                                                                                                           \
	{                                                                                                                        \
		.run_case = fn, .name = #fn                                                                                      \
	}

#define BC_KUNIT_FAIL(test) ((test)->failures++, (test)->file = __FILE__, (test)->line = __LINE__)
#define KUNIT_EXPECT_TRUE(test, cond) ((void)((cond) ? 0 : (BC_KUNIT_FAIL(test), 0)))
#define KUNIT_EXPECT_FALSE(test, cond) KUNIT_EXPECT_TRUE(test, !(cond))
#define KUNIT_EXPECT_EQ(test, a, b) KUNIT_EXPECT_TRUE(test, (a) == (b))
#define KUNIT_EXPECT_NE(test, a, b) KUNIT_EXPECT_TRUE(test, (a) != (b))
#define KUNIT_EXPECT_GE(test, a, b) KUNIT_EXPECT_TRUE(test, (a) >= (b))
#define KUNIT_EXPECT_LE(test, a, b) KUNIT_EXPECT_TRUE(test, (a) <= (b))
#define KUNIT_EXPECT_NOT_NULL(test, p) KUNIT_EXPECT_TRUE(test, (p) != NULL)
#define KUNIT_ASSERT_TRUE(test, cond)                                                                                            \
	do {                                                                                                                     \
		if (!(cond)) {                                                                                                   \
			BC_KUNIT_FAIL(test);                                                                                     \
			return;                                                                                                  \
		}                                                                                                                \
	} while (0)
#define KUNIT_ASSERT_NOT_NULL(test, p) KUNIT_ASSERT_TRUE(test, (p) != NULL)
#define KUNIT_ASSERT_EQ(test, a, b) KUNIT_ASSERT_TRUE(test, (a) == (b))

/* The suites of a file, in order. */
extern struct kunit_suite *bc_kunit_suites[8];
#define kunit_test_suite(suite)                                                                                                  \
	static void __attribute__((constructor)) bc_register_##suite(void)                                                       \
	{                                                                                                                        \
		for (int i = 0; i < 8; i++)                                                                                      \
			if (!bc_kunit_suites[i]) {                                                                               \
				bc_kunit_suites[i] = &(suite);                                                                   \
				break;                                                                                           \
			}                                                                                                        \
	}

#endif /* BUDDYCHECK_KUNIT_TEST_H */
