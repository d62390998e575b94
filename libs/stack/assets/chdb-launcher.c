/*
 * chdb-launcher: runs the real ClickHouse engine shipped in libchdb.so (npm @chdb/lib-linux-x64-gnu)
 * as a long-lived HTTP server for kaudit's local stack.
 *
 * libchdb.so exports chdb_query_cmdline(argc, argv), which runs clickhouse-local's main. Since
 * ClickHouse 26.6 clickhouse-local supports `SYSTEM START LISTEN HTTP`, and it keeps serving while
 * its query runs; the query we give it reads stdin until EOF. So:
 *   - the child runs chdb with stdin = the read end of a pipe;
 *   - the parent (the PID the stack tracks) holds the write end and closes it on SIGTERM/SIGINT
 *     (or, with --exit-on-stdin-eof, when its own stdin closes), so the query ends and ClickHouse
 *     shuts down normally, flushing what it has;
 *   - if the child exits first (e.g. a startup SQL error), the parent exits with its status.
 *
 * usage: chdb-launcher [--exit-on-stdin-eof] <path/to/libchdb.so> <clickhouse-local args...>
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

typedef void *(*cmdline_fn)(int, char **);
typedef const char *(*text_fn)(void *);
typedef size_t (*size_fn)(void *);

static int run_chdb(const char *lib, int argc, char **argv) {
  void *h = dlopen(lib, RTLD_NOW | RTLD_GLOBAL);
  if (!h) { fprintf(stderr, "chdb-launcher: cannot load %s: %s\n", lib, dlerror()); return 3; }
  cmdline_fn query = (cmdline_fn)dlsym(h, "chdb_query_cmdline");
  text_fn error = (text_fn)dlsym(h, "chdb_result_error");
  text_fn buffer = (text_fn)dlsym(h, "chdb_result_buffer");
  size_fn length = (size_fn)dlsym(h, "chdb_result_length");
  if (!query || !error || !buffer || !length) { fprintf(stderr, "chdb-launcher: %s lacks the chdb_* C API\n", lib); return 4; }
  void *result = query(argc, argv);
  if (!result) { fprintf(stderr, "chdb-launcher: chdb returned no result\n"); return 5; }
  const char *message = error(result);
  if (message && *message) { fprintf(stderr, "%s\n", message); return 1; }
  fwrite(buffer(result), 1, length(result), stdout);
  return 0;
}

int main(int argc, char **argv) {
  int watch_stdin = 0, first = 1;
  if (argc > 1 && strcmp(argv[1], "--exit-on-stdin-eof") == 0) { watch_stdin = 1; first = 2; }
  if (argc - first < 1) { fprintf(stderr, "usage: %s [--exit-on-stdin-eof] LIBCHDB [clickhouse-local args]\n", argv[0]); return 2; }

  int fds[2];
  if (pipe(fds) != 0) { perror("chdb-launcher: pipe"); return 2; }
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGCHLD);
  sigprocmask(SIG_BLOCK, &set, NULL);

  pid_t child = fork();
  if (child < 0) { perror("chdb-launcher: fork"); return 2; }
  if (child == 0) {
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive the launcher, even if it is SIGKILLed */
    dup2(fds[0], STDIN_FILENO);
    close(fds[0]);
    close(fds[1]);
    const char *lib = argv[first];
    argv[first] = "clickhouse-local"; /* clickhouse-local's argv[0] */
    _exit(run_chdb(lib, argc - first, argv + first));
  }
  close(fds[0]);

  int status = 0;
  for (;;) {
    struct timespec tick = {0, 200 * 1000 * 1000};
    int sig = sigtimedwait(&set, NULL, &tick);
    if (sig == SIGTERM || sig == SIGINT) break;
    pid_t done = waitpid(child, &status, WNOHANG);
    if (done == child) return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (watch_stdin) {
      struct pollfd p = {STDIN_FILENO, POLLIN, 0};
      if (poll(&p, 1, 0) > 0) {
        char sink[4096];
        ssize_t n = (p.revents & (POLLIN | POLLHUP)) ? read(STDIN_FILENO, sink, sizeof sink) : 1;
        if (n <= 0) break;
      }
    }
  }

  close(fds[1]); /* EOF on the query's stdin: clickhouse-local finishes and shuts down */
  for (int i = 0; i < 150; i++) { /* up to 15 s for a clean shutdown */
    if (waitpid(child, &status, WNOHANG) == child) return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    struct timespec pause = {0, 100 * 1000 * 1000};
    nanosleep(&pause, NULL);
  }
  kill(child, SIGKILL);
  waitpid(child, &status, 0);
  return 124;
}
