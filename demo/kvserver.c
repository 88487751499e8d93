/*
 * kvserver: a small line-based key-value service used as homeostat's demonstration target.
 *
 * INTENTIONALLY VULNERABLE. The BLOB command copies a client-chosen number of bytes into a 64-byte stack
 * buffer that sits right before a function pointer (see handle_blob). It exists so that `homeostat demo` can
 * trace the program's normal system-call behaviour, learn it, and then see an exploited session deviate, as in
 * Forrest et al.'s "A Sense of Self for Unix Processes". It only ever listens on 127.0.0.1. Never install it.
 *
 * Usage: kvserver <port> <data-dir>     (port 0 picks a free port)
 * stdout line 1: the bound port; line 2: "pid <pid>" of the listening process. Then nothing more.
 *
 * One child process per connection (fork), so every session is one process with its own system-call trace.
 * The store lives in the session's memory; SAVE/LOAD share it between sessions through <data-dir>/store.db.
 *
 * Protocol (one command per line, replies are one line unless stated):
 *   SET <key> <value>   -> OK                      value = rest of the line (1..1024 bytes)
 *   GET <key>           -> VALUE <value> | NOTFOUND
 *   DEL <key>           -> DELETED | NOTFOUND
 *   LIST                -> KEYS <n>, then n lines "KEY <key>" in insertion order
 *   ECHO <text>         -> ECHO <text>
 *   STATS               -> STATS keys=<n> commands=<n> vmrss_kb=<n>     (reads /proc/self/status)
 *   SAVE                -> SAVED <n>               (writes <data-dir>/store.db via a temp file + rename)
 *   LOAD                -> LOADED <n> | NOTFOUND   (replaces the session's store with the file's contents)
 *   BLOB <len>\n<len raw bytes> -> BLOB <strlen> <fnv1a-32 hex>   (a short text note, meant to be < 64 bytes)
 *   QUIT                -> BYE, and the session ends
 *   anything else       -> ERR <reason>
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_KEYS 256
#define MAX_KEY 32
#define MAX_VALUE 1024
#define MAX_LINE 2048
/* The protocol-level cap on a BLOB; the bug is that handle_blob checks this instead of the buffer's size. */
#define MAX_BLOB 1024

struct entry {
  char key[MAX_KEY + 1];
  char *value;
};

static struct entry store[MAX_KEYS];
static int store_count;
static unsigned long commands_served;
static const char *data_dir;
static int client_fd = -1;

/* Buffered reading from the client socket, so a line and the raw BLOB bytes after it can arrive in one segment. */
static char inbuf[4096];
static size_t in_start, in_end;

static void reply(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vdprintf(client_fd, fmt, ap);
  va_end(ap);
}

static int fill(void) {
  ssize_t n;
  do {
    n = read(client_fd, inbuf, sizeof inbuf);
  } while (n < 0 && errno == EINTR);
  if (n <= 0) return -1;
  in_start = 0;
  in_end = (size_t)n;
  return 0;
}

/* Reads one line without its newline; returns its length, -1 at end of input, -2 if too long. */
static int read_line(char *line, size_t max) {
  size_t len = 0;
  for (;;) {
    if (in_start == in_end && fill() < 0) return -1;
    char c = inbuf[in_start++];
    if (c == '\n') break;
    if (len + 1 >= max) return -2;
    line[len++] = c;
  }
  if (len > 0 && line[len - 1] == '\r') len--;
  line[len] = '\0';
  return (int)len;
}

static int read_exact(char *dst, size_t n) {
  while (n > 0) {
    if (in_start == in_end && fill() < 0) return -1;
    size_t take = in_end - in_start;
    if (take > n) take = n;
    memcpy(dst, inbuf + in_start, take);
    in_start += take;
    dst += take;
    n -= take;
  }
  return 0;
}

static int valid_key(const char *key) {
  size_t n = strlen(key);
  if (n == 0 || n > MAX_KEY) return 0;
  for (size_t i = 0; i < n; i++) {
    char c = key[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
      return 0;
  }
  return 1;
}

static int find_key(const char *key) {
  for (int i = 0; i < store_count; i++)
    if (strcmp(store[i].key, key) == 0) return i;
  return -1;
}

static void clear_store(void) {
  for (int i = 0; i < store_count; i++) free(store[i].value);
  store_count = 0;
}

static int put(const char *key, const char *value) {
  int i = find_key(key);
  char *copy = strdup(value);
  if (copy == NULL) return -1;
  if (i >= 0) {
    free(store[i].value);
    store[i].value = copy;
    return 0;
  }
  if (store_count == MAX_KEYS) {
    free(copy);
    return -1;
  }
  strcpy(store[store_count].key, key);
  store[store_count].value = copy;
  store_count++;
  return 0;
}

static void handle_set(char *args) {
  char *space = strchr(args, ' ');
  if (space == NULL) {
    reply("ERR usage: SET <key> <value>\n");
    return;
  }
  *space = '\0';
  const char *value = space + 1;
  size_t vlen = strlen(value);
  if (!valid_key(args) || vlen == 0 || vlen > MAX_VALUE) {
    reply("ERR bad key or value\n");
    return;
  }
  if (put(args, value) < 0) {
    reply("ERR store full\n");
    return;
  }
  reply("OK\n");
}

static void handle_get(const char *key) {
  int i = find_key(key);
  if (i < 0)
    reply("NOTFOUND\n");
  else
    reply("VALUE %s\n", store[i].value);
}

static void handle_del(const char *key) {
  int i = find_key(key);
  if (i < 0) {
    reply("NOTFOUND\n");
    return;
  }
  free(store[i].value);
  memmove(&store[i], &store[i + 1], (size_t)(store_count - i - 1) * sizeof store[0]);
  store_count--;
  reply("DELETED\n");
}

static void handle_list(void) {
  reply("KEYS %d\n", store_count);
  for (int i = 0; i < store_count; i++) reply("KEY %s\n", store[i].key);
}

static void handle_stats(void) {
  long rss = -1;
  FILE *f = fopen("/proc/self/status", "r");
  if (f != NULL) {
    char line[256];
    while (fgets(line, sizeof line, f) != NULL)
      if (strncmp(line, "VmRSS:", 6) == 0) rss = strtol(line + 6, NULL, 10);
    fclose(f);
  }
  reply("STATS keys=%d commands=%lu vmrss_kb=%ld\n", store_count, commands_served, rss);
}

static void store_path(char *out, size_t max, const char *name) { snprintf(out, max, "%s/%s", data_dir, name); }

static void handle_save(void) {
  char tmp[4096], final[4096];
  snprintf(tmp, sizeof tmp, "%s/store.db.%d", data_dir, (int)getpid());
  store_path(final, sizeof final, "store.db");
  FILE *f = fopen(tmp, "w");
  if (f == NULL) {
    reply("ERR cannot save\n");
    return;
  }
  for (int i = 0; i < store_count; i++) fprintf(f, "%s %s\n", store[i].key, store[i].value);
  if (fclose(f) != 0 || rename(tmp, final) != 0) {
    unlink(tmp);
    reply("ERR cannot save\n");
    return;
  }
  reply("SAVED %d\n", store_count);
}

static void handle_load(void) {
  char path[4096];
  store_path(path, sizeof path, "store.db");
  FILE *f = fopen(path, "r");
  if (f == NULL) {
    reply("NOTFOUND\n");
    return;
  }
  clear_store();
  char line[MAX_LINE];
  while (fgets(line, sizeof line, f) != NULL) {
    line[strcspn(line, "\n")] = '\0';
    char *space = strchr(line, ' ');
    if (space == NULL) continue;
    *space = '\0';
    if (valid_key(line)) put(line, space + 1);
  }
  fclose(f);
  reply("LOADED %d\n", store_count);
}

/* Replies with the length and FNV-1a hash of a blob note. */
static void blob_digest(const char *data) {
  uint32_t h = 2166136261u;
  size_t n = strlen(data);
  for (size_t i = 0; i < n; i++) {
    h ^= (unsigned char)data[i];
    h *= 16777619u;
  }
  reply("BLOB %zu %08x\n", n, h);
}

/*
 * THE PLANTED BUG. `note.data` holds 64 bytes, but the length check is against the protocol cap MAX_BLOB
 * (1024), so a client can write past `data` into `note.digest`, which is then called with `data` as its argument:
 * whoever controls the bytes controls both the next instruction executed and its first argument.
 */
static void handle_blob(const char *arg) {
  struct {
    char data[64];
    void (*digest)(const char *);
  } note;
  char *end;
  long len = strtol(arg, &end, 10);
  if (*arg == '\0' || *end != '\0' || len < 0 || len > MAX_BLOB) {
    reply("ERR usage: BLOB <len> (at most %d)\n", MAX_BLOB);
    return;
  }
  memset(note.data, 0, sizeof note.data);
  note.digest = blob_digest;
  if (read_exact(note.data, (size_t)len) < 0) return;
  note.digest(note.data);
}

static void session(void) {
  char line[MAX_LINE];
  for (;;) {
    int n = read_line(line, sizeof line);
    if (n == -1) return;
    if (n == -2) {
      reply("ERR line too long\n");
      return;
    }
    commands_served++;
    char *args = strchr(line, ' ');
    if (args != NULL) *args++ = '\0';
    else args = line + n;
    if (strcmp(line, "SET") == 0) handle_set(args);
    else if (strcmp(line, "GET") == 0) handle_get(args);
    else if (strcmp(line, "DEL") == 0) handle_del(args);
    else if (strcmp(line, "LIST") == 0) handle_list();
    else if (strcmp(line, "ECHO") == 0) reply("ECHO %s\n", args);
    else if (strcmp(line, "STATS") == 0) handle_stats();
    else if (strcmp(line, "SAVE") == 0) handle_save();
    else if (strcmp(line, "LOAD") == 0) handle_load();
    else if (strcmp(line, "BLOB") == 0) handle_blob(args);
    else if (strcmp(line, "QUIT") == 0) {
      reply("BYE\n");
      return;
    } else
      reply("ERR unknown command\n");
  }
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: kvserver <port> <data-dir>\n");
    return 2;
  }
  char *end;
  long port = strtol(argv[1], &end, 10);
  if (*argv[1] == '\0' || *end != '\0' || port < 0 || port > 65535) {
    fprintf(stderr, "kvserver: bad port %s\n", argv[1]);
    return 2;
  }
  data_dir = argv[2];

  /* Finished sessions are reaped by the kernel (SIGCHLD ignored, SA_NOCLDWAIT) rather than by a handler: a
   * handler's wait4/rt_sigreturn calls would land in the listener's trace wherever the signal happens to arrive,
   * so each run would interleave them differently. The demo is meant to be reproducible; the listener's trace is
   * then the same accept/clone/close loop in every run. */
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = SIG_IGN;
  sa.sa_flags = SA_NOCLDWAIT;
  sigaction(SIGCHLD, &sa, NULL);

  int lfd = socket(AF_INET, SOCK_STREAM, 0);
  if (lfd < 0) {
    perror("kvserver: socket");
    return 1;
  }
  int one = 1;
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in addr;
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_port = htons((uint16_t)port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK); /* loopback only: this program is exploitable by design */
  if (bind(lfd, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(lfd, 64) < 0) {
    perror("kvserver: bind/listen");
    return 1;
  }
  socklen_t alen = sizeof addr;
  getsockname(lfd, (struct sockaddr *)&addr, &alen);
  printf("%d\npid %d\n", ntohs(addr.sin_port), (int)getpid());
  fflush(stdout);

  for (;;) {
    int cfd = accept(lfd, NULL, NULL);
    if (cfd < 0) {
      if (errno == EINTR) continue;
      perror("kvserver: accept");
      return 1;
    }
    pid_t pid = fork();
    if (pid == 0) {
      close(lfd);
      signal(SIGCHLD, SIG_DFL);
      client_fd = cfd;
      session();
      close(cfd);
      _exit(0);
    }
    close(cfd);
  }
}
