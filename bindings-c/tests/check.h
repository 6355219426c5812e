/*
 * A tiny test harness shared by the C test programs (test_c.c,
 * test_node.c): CHECK, EXPECT (a status), OK, REQUIRE. Include after
 * <stdio.h>, <stdlib.h> and streamrelay.h.
 */
#ifndef STREAMRELAY_TESTS_CHECK_H
#define STREAMRELAY_TESTS_CHECK_H

static int g_checks, g_check_failures, g_test_failed;

#define CHECK(cond)                                                            \
  do {                                                                         \
    g_checks++;                                                                \
    if (!(cond)) {                                                             \
      g_check_failures++;                                                      \
      g_test_failed = 1;                                                       \
      fprintf(stderr, "  %s:%d: CHECK(%s) failed\n", __FILE__, __LINE__,       \
              #cond);                                                          \
    }                                                                          \
  } while (0)

#define EXPECT(expr, want)                                                     \
  do {                                                                         \
    SrStatus got_ = (expr);                                                    \
    SrStatus want_ = (want);                                                   \
    g_checks++;                                                                \
    if (got_ != want_) {                                                       \
      g_check_failures++;                                                      \
      g_test_failed = 1;                                                       \
      fprintf(stderr, "  %s:%d: %s\n    = %s, want %s\n", __FILE__, __LINE__,  \
              #expr, sr_status_name(got_), sr_status_name(want_));             \
    }                                                                          \
  } while (0)

#define OK(expr) EXPECT(expr, SR_STATUS_OK)

/* Fails the whole run at once: used where going on makes no sense. */
#define REQUIRE(cond)                                                          \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "  %s:%d: REQUIRE(%s) failed, aborting\n", __FILE__,     \
              __LINE__, #cond);                                                \
      exit(2);                                                                 \
    }                                                                          \
  } while (0)

#endif
