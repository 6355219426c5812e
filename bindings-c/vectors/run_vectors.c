/*
 * The golden-vector runner over the C ABI: runs every case of the vector
 * files named on the command line through libstreamrelay (built with the
 * cargo feature `vectors`), prints each failure and documented deviation,
 * and ends with the same summary line as `streamrelay vectors check`:
 * "N passed, N failed[, N deviations]". Exits 1 on a failed case or a file
 * that cannot be run.
 */
#define STREAMRELAY_VECTORS 1
#include <stdio.h>
#include <string.h>

#include "streamrelay.h"

static void print_line(void *user_data, const char *line, size_t len) {
  (void)user_data;
  printf("%.*s\n", (int)len, line);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s FILE.json...\n", argv[0]);
    return 2;
  }
  unsigned long long passed = 0, failed = 0, deviations = 0;
  int bad_file = 0;
  for (int i = 1; i < argc; i++) {
    SrVectorReport r;
    memset(&r, 0, sizeof r);
    r.struct_size = sizeof r;
    SrStatus s = sr_vectors_check_file((const uint8_t *)argv[i], strlen(argv[i]), print_line,
                                       NULL, &r);
    if (s != SR_STATUS_OK) {
      fprintf(stderr, "%s: %s\n", argv[i], sr_status_name(s));
      bad_file = 1;
      continue;
    }
    passed += r.passed;
    failed += r.failed;
    deviations += r.deviations;
  }
  printf("%llu passed, %llu failed", passed, failed);
  if (deviations > 0) printf(", %llu deviations", deviations);
  printf("\n");
  return (bad_file || failed > 0) ? 1 : 0;
}
