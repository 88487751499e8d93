/*
 * stide in plain C, the baseline of bench/startup.js: Forrest, Hofmeyr, Somayaji & Longstaff (1996), "A Sense of Self
 * for Unix Processes"; locality frame count from Hofmeyr, Forrest & Somayaji (1998).
 *
 *   stide [-k K] [-f FRAME] TRAIN_PATH... -- TEST_PATH...
 *
 * Each path is a trace file or a folder walked recursively in name order; a trace is one file of whitespace-separated
 * decimal system-call numbers (ADFA-LD's text format). Training stores every distinct window of K consecutive calls
 * of each training trace (windows never span two traces) in a hash set. Each test trace is then scored: the window
 * ending at call i (i >= K-1) is a mismatch when the set lacks it; the locality frame count at call i is the number
 * of mismatches among calls i-FRAME+1..i (the first K-1 calls have no window and count as normal). One line per test
 * trace on stdout:
 *
 *   path <TAB> calls <TAB> windows <TAB> mismatches <TAB> max LFC
 *
 * Deliberately straightforward: read each file whole, parse digits, open addressing with linear probing.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_K 64

static int k = 6;
static int frame = 20;

static void die(const char *what, const char *detail) {
  fprintf(stderr, "stide: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
  exit(2);
}

static void *xrealloc(void *p, size_t n) {
  void *q = realloc(p, n);
  if (q == NULL && n != 0) die("out of memory", NULL);
  return q;
}

/* ---- the set of windows: k ints per slot, open addressing, linear probing, grown at half full ---- */

static int32_t *slots;     /* capacity * k ints */
static uint8_t *used;      /* capacity flags */
static size_t capacity, count;

static uint64_t hash_window(const int32_t *w) {
  uint64_t h = 1469598103934665603ULL; /* FNV-1a over the ints, then a final mix */
  for (int i = 0; i < k; i++) {
    h ^= (uint32_t)w[i];
    h *= 1099511628211ULL;
  }
  h ^= h >> 29;
  h *= 0xbf58476d1ce4e5b9ULL;
  h ^= h >> 32;
  return h;
}

static size_t find_slot(const int32_t *w, int *found) {
  size_t mask = capacity - 1;
  size_t i = (size_t)hash_window(w) & mask;
  for (;;) {
    if (!used[i]) {
      *found = 0;
      return i;
    }
    if (memcmp(slots + i * (size_t)k, w, (size_t)k * sizeof(int32_t)) == 0) {
      *found = 1;
      return i;
    }
    i = (i + 1) & mask;
  }
}

static void set_init(size_t cap) {
  capacity = cap;
  count = 0;
  slots = xrealloc(NULL, capacity * (size_t)k * sizeof(int32_t));
  used = calloc(capacity, 1);
  if (used == NULL) die("out of memory", NULL);
}

static void set_add(const int32_t *w);

static void set_grow(void) {
  int32_t *old_slots = slots;
  uint8_t *old_used = used;
  size_t old_capacity = capacity;
  set_init(old_capacity * 2);
  for (size_t i = 0; i < old_capacity; i++)
    if (old_used[i]) set_add(old_slots + i * (size_t)k);
  free(old_slots);
  free(old_used);
}

static void set_add(const int32_t *w) {
  int found;
  size_t i = find_slot(w, &found);
  if (found) return;
  memcpy(slots + i * (size_t)k, w, (size_t)k * sizeof(int32_t));
  used[i] = 1;
  if (++count * 2 > capacity) set_grow();
}

static int set_has(const int32_t *w) {
  int found;
  find_slot(w, &found);
  return found;
}

/* ---- reading traces ---- */

static char *buf;
static size_t buf_size;
static int32_t *calls;
static size_t calls_size;

/* Reads the file at `path` into `calls`; returns the number of calls. */
static size_t read_trace(const char *path) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) die(path, strerror(errno));
  size_t len = 0;
  for (;;) {
    if (len == buf_size) {
      buf_size = buf_size ? buf_size * 2 : 1 << 16;
      buf = xrealloc(buf, buf_size);
    }
    size_t n = fread(buf + len, 1, buf_size - len, f);
    len += n;
    if (n == 0) break;
  }
  if (ferror(f)) die(path, "read error");
  fclose(f);
  size_t n = 0;
  size_t i = 0;
  while (i < len) {
    while (i < len && (buf[i] == ' ' || buf[i] == '\n' || buf[i] == '\r' || buf[i] == '\t')) i++;
    if (i == len) break;
    if (buf[i] < '0' || buf[i] > '9') die(path, "not a list of system-call numbers");
    int32_t v = 0;
    while (i < len && buf[i] >= '0' && buf[i] <= '9') {
      v = v * 10 + (buf[i] - '0');
      if (v > 1000000) die(path, "system-call number too large");
      i++;
    }
    if (n == calls_size) {
      calls_size = calls_size ? calls_size * 2 : 1 << 14;
      calls = xrealloc(calls, calls_size * sizeof(int32_t));
    }
    calls[n++] = v;
  }
  return n;
}

typedef void (*trace_fn)(const char *path, size_t n);

static int by_name(const struct dirent **a, const struct dirent **b) {
  return strcmp((*a)->d_name, (*b)->d_name);
}

static void walk(const char *path, trace_fn fn) {
  struct stat st;
  if (stat(path, &st) != 0) die(path, strerror(errno));
  if (S_ISREG(st.st_mode)) {
    fn(path, read_trace(path));
    return;
  }
  if (!S_ISDIR(st.st_mode)) return;
  struct dirent **entries;
  int n = scandir(path, &entries, NULL, by_name);
  if (n < 0) die(path, strerror(errno));
  for (int i = 0; i < n; i++) {
    const char *name = entries[i]->d_name;
    if (strcmp(name, ".") != 0 && strcmp(name, "..") != 0) {
      size_t len = strlen(path) + strlen(name) + 2;
      char *child = xrealloc(NULL, len);
      snprintf(child, len, "%s/%s", path, name);
      walk(child, fn);
      free(child);
    }
    free(entries[i]);
  }
  free(entries);
}

/* ---- training and scoring ---- */

static size_t trained_traces, trained_calls;

static void train(const char *path, size_t n) {
  (void)path;
  trained_traces++;
  trained_calls += n;
  for (size_t i = (size_t)k - 1; i < n; i++) set_add(calls + i + 1 - (size_t)k);
}

static uint8_t *ring;

static void score(const char *path, size_t n) {
  memset(ring, 0, (size_t)frame);
  size_t head = 0, windows = 0, mismatches = 0;
  int lfc = 0, max_lfc = 0;
  for (size_t i = 0; i < n; i++) {
    int bit = 0;
    if (i + 1 >= (size_t)k) {
      windows++;
      if (!set_has(calls + i + 1 - (size_t)k)) {
        bit = 1;
        mismatches++;
      }
    }
    lfc += bit - ring[head];
    ring[head] = (uint8_t)bit;
    head = head + 1 == (size_t)frame ? 0 : head + 1;
    if (lfc > max_lfc) max_lfc = lfc;
  }
  printf("%s\t%zu\t%zu\t%zu\t%d\n", path, n, windows, mismatches, max_lfc);
}

int main(int argc, char **argv) {
  int i = 1;
  for (; i < argc && argv[i][0] == '-' && strcmp(argv[i], "--") != 0; i++) {
    if (strcmp(argv[i], "-k") == 0 && i + 1 < argc) k = atoi(argv[++i]);
    else if (strcmp(argv[i], "-f") == 0 && i + 1 < argc) frame = atoi(argv[++i]);
    else die("usage: stide [-k K] [-f FRAME] TRAIN_PATH... -- TEST_PATH...", NULL);
  }
  if (k < 1 || k > MAX_K || frame < 1) die("-k must be 1..64 and -f at least 1", NULL);
  set_init(1 << 16);
  ring = calloc((size_t)frame, 1);
  if (ring == NULL) die("out of memory", NULL);
  for (; i < argc && strcmp(argv[i], "--") != 0; i++) walk(argv[i], train);
  if (i == argc) die("usage: stide [-k K] [-f FRAME] TRAIN_PATH... -- TEST_PATH...", NULL);
  fprintf(stderr, "stide: k=%d, %zu distinct windows from %zu traces (%zu calls)\n", k, count, trained_traces, trained_calls);
  for (i++; i < argc; i++) walk(argv[i], score);
  return 0;
}
