/* capi_test.h: a tiny assertion harness for the C ABI tests, which are C11
 * (not C++) so that they prove the header and library work from plain C. */
#ifndef CARBONKUBE_CAPI_TEST_H
#define CARBONKUBE_CAPI_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "carbonkube.h"

static int ck_test_failures = 0;
static int ck_test_checks = 0;

#define CHECK(cond)                                                            \
  do {                                                                         \
    ++ck_test_checks;                                                          \
    if (!(cond)) {                                                             \
      ++ck_test_failures;                                                      \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
    }                                                                          \
  } while (0)

/* A call that must succeed; prints the library's message when it does not. */
#define CHECK_OK(call)                                                          \
  do {                                                                          \
    ck_status ck_test_st_ = (call);                                             \
    ++ck_test_checks;                                                           \
    if (ck_test_st_ != CK_OK) {                                                 \
      ++ck_test_failures;                                                       \
      fprintf(stderr, "%s:%d: %s returned %s: %s\n", __FILE__, __LINE__, #call, \
              ck_status_name(ck_test_st_), ck_last_error());                    \
    }                                                                           \
  } while (0)

/* A call that must fail with `status` and a message containing `needle`. */
#define CHECK_FAILS(status, needle, call)                                                    \
  do {                                                                                       \
    ck_status ck_test_st_ = (call);                                                          \
    ++ck_test_checks;                                                                        \
    if (ck_test_st_ != (status) || strstr(ck_last_error(), (needle)) == NULL) {              \
      ++ck_test_failures;                                                                    \
      fprintf(stderr, "%s:%d: %s returned %s (\"%s\"); expected %s with \"%s\"\n", __FILE__, \
              __LINE__, #call, ck_status_name(ck_test_st_), ck_last_error(),                 \
              ck_status_name(status), (needle));                                             \
    }                                                                                        \
  } while (0)

/* Reads a whole file (relative to the source tree) into a NUL-terminated
 * malloc'd buffer; aborts the test when it cannot. */
static inline char* ck_test_read(const char* relative, size_t* len) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", CARBONKUBE_SOURCE_DIR, relative);
  FILE* f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "cannot open %s\n", path);
    exit(2);
  }
  fseek(f, 0, SEEK_END);
  long size = ftell(f);
  fseek(f, 0, SEEK_SET);
  char* buf = (char*)malloc((size_t)size + 1);
  if (!buf || fread(buf, 1, (size_t)size, f) != (size_t)size) {
    fprintf(stderr, "cannot read %s\n", path);
    exit(2);
  }
  buf[size] = '\0';
  fclose(f);
  *len = (size_t)size;
  return buf;
}

static inline int ck_test_report(const char* name) {
  if (ck_test_failures) {
    fprintf(stderr, "%s: %d of %d checks failed\n", name, ck_test_failures, ck_test_checks);
    return 1;
  }
  printf("%s: %d checks passed\n", name, ck_test_checks);
  return 0;
}

#endif
