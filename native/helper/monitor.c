/* monitor.c: `run --detach`, the monitor process (conmon's role in podman).
 *
 *   caller (pkit-runtime run -d)        monitor                               container init
 *   report pipe, fork --------------->  setsid (own session and process group),
 *   blocks reading the pipe             closes every fd but 0-2, the preserved
 *                                       ones and the pipe
 *                                       sets the container up as `run` does:
 *                                       errors print on the caller's stderr,
 *                                       the monitor exits with the code   ----> clone: stdin,
 *                                       log file, exit dir, stdout/stderr         stdout, stderr
 *                                       pipes opened before the clone             are ours
 *                                       state.json, --pid-file written
 *                                       0-2 -> /dev/null, chdir /, "R"
 *   "R", then EOF: exit 0 <-----------  (prints nothing, as crun run -d)
 *   EOF alone: the monitor's exit code  loop: pipes -> log, signals -> init
 *                                       init exited: drain the pipes, fsync the log;
 *                                       <state>/exit, state.json (exitCode, exitedAt),
 *                                       <exit-dir>/<id>; exit
 *
 * The log is podman's k8s-file format, one record per line:
 *   <RFC3339Nano time, UTC> <stdout|stderr> <F|P> <text>
 * F ends a line (its newline is not in the text), P is a piece of a line whose rest follows
 * in later records: what a read returned without a newline yet, or a line cut at
 * MAX_RECORD bytes. Every record of one read has the time of that read. The file is opened
 * O_APPEND and fdatasync'ed at most once a second while output flows, and at the end.
 * A process.terminal container without --console-socket logs its pty as stdout.
 *
 * After setup the monitor does no JSON work and no allocation per output (fixed buffers):
 * the stopped state.json is the running one with the exit fields put before the final '}'.
 * Signals sent to the monitor are forwarded to the init, as `run` does; SIGCHLD ends it.
 * The init's parent-death signal is cleared: as under conmon, killing the monitor leaves
 * the container running (unlogged, its exit unrecorded). */
#include "runtime.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define READ_CHUNK 16384
#define MAX_RECORD 8192 /* longer lines are cut into P records of this size */
#define OUT_SIZE 32768
#define SYNC_MS 1000

static int report_fd = -1;

static void close_fd_range(unsigned a, unsigned b) {
  if (a > b) return;
  if (syscall(SYS_close_range, a, b, 0) == 0) return;
  for (unsigned fd = a; fd <= b && fd < 65536; fd++) close((int)fd);
}

/* close [first, inf) but keep (keep >= first) */
static void close_fds_from(int first, int keep) {
  close_fd_range((unsigned)first, (unsigned)keep - 1);
  close_fd_range((unsigned)keep + 1, ~0U);
}

void monitor_fork(void) {
  int first = 3 + preserve_fds;
  int p[2];
  if (pipe2(p, O_CLOEXEC) < 0) die_errno("pipe");
  /* both ends above the preserved range, which the container gets */
  int r = fcntl(p[0], F_DUPFD_CLOEXEC, first), w = fcntl(p[1], F_DUPFD_CLOEXEC, first);
  if (r < 0 || w < 0) die_errno("fcntl F_DUPFD");
  close(p[0]); close(p[1]);
  fflush(NULL);
  pid_t m = fork();
  if (m < 0) die_errno("fork the monitor");
  if (m > 0) {
    close(w);
    char c;
    ssize_t n;
    do n = read(r, &c, 1); while (n < 0 && errno == EINTR);
    if (n == 1 && c == 'R') {
      /* and EOF: the monitor has closed its end (its last fd of ours) and the init has
       * exec'd (its copy was close-on-exec) */
      while ((n = read(r, &c, 1)) != 0 && (n > 0 || errno == EINTR)) {}
      _exit(0);
    }
    /* the monitor exited during setup: its message is on our shared stderr */
    int st;
    while (waitpid(m, &st, 0) < 0)
      if (errno != EINTR) _exit(EXIT_RUNTIME);
    _exit(WIFEXITED(st) ? WEXITSTATUS(st) : EXIT_RUNTIME);
  }
  close(r);
  /* out of the caller's session and process group: its terminal's ^C, ^Z and hangup do
   * not reach us, and we never get a controlling terminal by accident (no opens without
   * O_NOCTTY). */
  if (setsid() < 0) die_errno("setsid");
  /* the exit status of the init must reach us, whatever the caller ignored */
  signal(SIGCHLD, SIG_DFL);
  report_fd = w;
  close_fds_from(first, w);
}

static int open_dir(const char *path) {
  return open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

int monitor_prepare(const struct run_opts *o, const char *sdir, bool terminal, struct monitor_io *io, char **err) {
  *io = (struct monitor_io){ -1, -1, -1, -1, -1, -1, -1, -1 };
  char *lp = o->log_path ? xstrdup(o->log_path) : xasprintf("%s/" MONITOR_DEFAULT_LOG, sdir);
  io->log_fd = open(lp, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600);
  if (io->log_fd < 0) { *err = xasprintf("open the log file %s: %s", lp, strerror(errno)); free(lp); return -1; }
  free(lp);
  io->state_dir_fd = open_dir(sdir);
  if (io->state_dir_fd < 0) { *err = xasprintf("open %s: %s", sdir, strerror(errno)); return -1; }
  if (o->exit_dir) {
    if (mkdir_p(o->exit_dir, 0700) < 0 || (io->exit_dir_fd = open_dir(o->exit_dir)) < 0) {
      *err = xasprintf("exit dir %s: %s", o->exit_dir, strerror(errno));
      return -1;
    }
  }
  if (o->monitor_pid_file) {
    char b[32];
    int n = snprintf(b, sizeof b, "%d", (int)getpid());
    if (write_file_atomic(o->monitor_pid_file, b, (size_t)n) < 0) {
      *err = xasprintf("write the monitor pid file %s: %s", o->monitor_pid_file, strerror(errno));
      return -1;
    }
  }
  const char *in = o->stdin_path ? o->stdin_path : "/dev/null";
  io->stdin_fd = open(in, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (io->stdin_fd < 0) { *err = xasprintf("open %s for the container's stdin: %s", in, strerror(errno)); return -1; }
  if (!terminal) {
    int a[2], b[2];
    if (pipe2(a, O_CLOEXEC) < 0) { *err = xasprintf("pipe: %s", strerror(errno)); return -1; }
    if (pipe2(b, O_CLOEXEC) < 0) { *err = xasprintf("pipe: %s", strerror(errno)); return -1; }
    io->out_r = a[0]; io->out_w = a[1]; io->err_r = b[0]; io->err_w = b[1];
    fcntl(io->out_r, F_SETFL, O_NONBLOCK);
    fcntl(io->err_r, F_SETFL, O_NONBLOCK);
  }
  return 0;
}

void monitor_after_clone(struct monitor_io *io) {
  if (io->stdin_fd >= 0) close(io->stdin_fd);
  if (io->out_w >= 0) close(io->out_w);
  if (io->err_w >= 0) close(io->err_w);
  io->stdin_fd = io->out_w = io->err_w = -1;
  /* the preserved fds were for the container, which has them now */
  for (int fd = 3; fd < 3 + preserve_fds; fd++) close(fd);
}

void monitor_copy_setup_output(struct monitor_io *io, int master) {
  int fds[3] = { io->err_r, io->out_r, master };
  char buf[4096];
  for (int i = 0; i < 3; i++) {
    if (fds[i] < 0) continue;
    fcntl(fds[i], F_SETFL, O_NONBLOCK);
    for (int k = 0; k < 64; k++) {
      ssize_t n = read(fds[i], buf, sizeof buf);
      if (n <= 0) break;
      (void)write_all(STDERR_FILENO, buf, (size_t)n);
    }
  }
}

/* ---- the log ---------------------------------------------------------------------------- */

static char out[OUT_SIZE];
static size_t out_len;
static int log_fd = -1;
static bool log_dirty;
static struct timespec last_sync;

static long ms_since(const struct timespec *t) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (now.tv_sec - t->tv_sec) * 1000 + (now.tv_nsec - t->tv_nsec) / 1000000;
}

/* 2006-01-02T15:04:05.000000000Z: RFC3339Nano as Go parses it (fixed 9 digits, UTC) */
static size_t format_time(char *b, size_t cap) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm;
  gmtime_r(&ts.tv_sec, &tm);
  int n = snprintf(b, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
                   tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec);
  return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

static void log_flush(void) {
  if (!out_len) return;
  /* errors (a full disk) are dropped: the pipes must keep being read or the container
   * blocks on its output */
  (void)write_all(log_fd, out, out_len);
  out_len = 0;
  log_dirty = true;
}

static void log_sync(void) {
  if (!log_dirty) return;
  (void)fdatasync(log_fd);
  log_dirty = false;
  clock_gettime(CLOCK_MONOTONIC, &last_sync);
}

static void log_record(const char *ts, size_t ts_len, const char *stream, char flag, const char *text, size_t len) {
  size_t sl = strlen(stream);
  size_t need = ts_len + 1 + sl + 3 + len + 1;
  if (out_len + need > sizeof out) log_flush();
  char *p = out + out_len;
  memcpy(p, ts, ts_len); p += ts_len;
  *p++ = ' ';
  memcpy(p, stream, sl); p += sl;
  *p++ = ' '; *p++ = flag; *p++ = ' ';
  memcpy(p, text, len); p += len;
  *p++ = '\n';
  out_len = (size_t)(p - out);
}

static void log_chunk(const char *stream, const char *buf, size_t n) {
  char ts[64];
  size_t tl = format_time(ts, sizeof ts);
  size_t i = 0;
  while (i < n) {
    const char *nl = memchr(buf + i, '\n', n - i);
    size_t len = (nl ? (size_t)(nl - buf) : n) - i;
    bool full = nl != NULL;
    size_t step = len + (full ? 1 : 0);
    if (len > MAX_RECORD) { len = step = MAX_RECORD; full = false; }
    log_record(ts, tl, stream, full ? 'F' : 'P', buf + i, len);
    i += step;
  }
  log_flush();
}

struct stream { int fd; const char *name; };

/* One read from s into the log; false once nothing more is to be had right now. */
static bool pump(struct stream *s) {
  static char buf[READ_CHUNK];
  if (s->fd < 0) return false;
  ssize_t n = read(s->fd, buf, sizeof buf);
  if (n > 0) { log_chunk(s->name, buf, (size_t)n); return true; }
  if (n < 0 && errno == EINTR) return true;
  if (n < 0 && errno == EAGAIN) return false;
  /* EOF, or EIO from a pty master whose slave is closed */
  close(s->fd);
  s->fd = -1;
  return false;
}

/* ---- the exit ------------------------------------------------------------------------- */

/* name in dir, atomically (temp file, fsync, rename, fsync the directory) */
static void write_at(int dir, const char *name, const char *data, size_t len) {
  char tmp[64];
  snprintf(tmp, sizeof tmp, ".exit-tmp-%d", (int)getpid());
  int fd = openat(dir, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOCTTY, 0644);
  if (fd < 0) return; /* the state was deleted meanwhile */
  if (write_all(fd, data, len) < 0 || fsync(fd) < 0) { close(fd); unlinkat(dir, tmp, 0); return; }
  close(fd);
  if (renameat(dir, tmp, dir, name) < 0) { unlinkat(dir, tmp, 0); return; }
  (void)fsync(dir);
}

_Noreturn void monitor_run(const struct run_opts *o, struct monitor_io *io, const struct state *st, pid_t pid, int sfd, int master) {
  /* everything that needs the heap, before detaching */
  char *running = state_to_json(st);
  size_t rl = strlen(running);
  while (rl && running[rl - 1] != '}') rl--;
  if (rl) rl--; /* without the final '}' */
  size_t stopped_cap = rl + 128;
  char *stopped = xmalloc(stopped_cap);
  memcpy(stopped, running, rl);
  free(running);

  /* detach: the caller's stdio and cwd are no longer ours */
  int null = open("/dev/null", O_RDWR | O_CLOEXEC | O_NOCTTY);
  if (null >= 0) {
    for (int fd = 0; fd < 3; fd++) dup2(null, fd);
    if (null > 2) close(null);
  }
  if (chdir("/") < 0) { /* nothing holds us anywhere else; keep going */ }
  malloc_trim(0);
  if (report_fd >= 0) {
    if (write(report_fd, "R", 1) < 0) { /* EPIPE: the caller is gone (SIGPIPE is blocked) */ }
    close(report_fd);
    report_fd = -1;
  }

  log_fd = io->log_fd;
  clock_gettime(CLOCK_MONOTONIC, &last_sync);
  struct stream ss[2] = { { master >= 0 ? master : io->out_r, "stdout" }, { io->err_r, "stderr" } };
  if (master >= 0) fcntl(master, F_SETFL, O_NONBLOCK);
  bool exited = false;
  int wst = 0;
  for (;;) {
    pid_t r;
    while ((r = waitpid(-1, &wst, WNOHANG)) > 0)
      if (r == pid) { exited = true; break; }
    if (exited || (r < 0 && errno == ECHILD)) break;

    struct pollfd pf[3] = { { sfd, POLLIN, 0 }, { ss[0].fd, POLLIN, 0 }, { ss[1].fd, POLLIN, 0 } };
    int timeout = -1;
    if (log_dirty) {
      long left = SYNC_MS - ms_since(&last_sync);
      timeout = left < 0 ? 0 : (int)left;
    }
    int n = poll(pf, 3, timeout);
    if (n < 0 && errno != EINTR) break;
    if (n > 0 && (pf[0].revents & POLLIN)) {
      struct signalfd_siginfo si;
      while (read(sfd, &si, sizeof si) == (ssize_t)sizeof si) {
        if (si.ssi_signo == SIGCHLD || si.ssi_signo == SIGPIPE) continue;
        kill(pid, (int)si.ssi_signo);
      }
    }
    for (int i = 0; i < 2; i++) {
      if (n <= 0 || !pf[i + 1].revents) continue;
      /* a few reads per wakeup: a full pipe drains without a poll per chunk */
      for (int k = 0; k < 4 && pump(&ss[i]); k++) {}
    }
    if (log_dirty && ms_since(&last_sync) >= SYNC_MS) log_sync();
  }

  /* The init is gone and so is everything it wrote into the pipes before: take it all.
   * (Bounded: without a pid namespace an orphan may still hold and fill a pipe.) */
  for (int i = 0; i < 2; i++)
    for (int k = 0; k < 1024 && pump(&ss[i]); k++) {}
  log_flush();
  log_dirty = true;
  log_sync();
  close(log_fd);

  int code = !exited ? EXIT_RUNTIME : WIFEXITED(wst) ? WEXITSTATUS(wst) : WIFSIGNALED(wst) ? 128 + WTERMSIG(wst) : EXIT_RUNTIME;
  char at[64];
  format_time(at, sizeof at);
  char num[16];
  int nl = snprintf(num, sizeof num, "%d", code);
  write_at(io->state_dir_fd, "exit", num, (size_t)nl);
  int sl = snprintf(stopped + rl, stopped_cap - rl, ",\"exitCode\":%d,\"exitedAt\":\"%s\"}", code, at);
  write_at(io->state_dir_fd, "state.json", stopped, rl + (size_t)sl);
  /* last: podman watches the exit dir, and everything else is in place by now */
  if (io->exit_dir_fd >= 0) write_at(io->exit_dir_fd, o->id, num, (size_t)nl);
  _exit(0);
}

void monitor_wait_gone(const struct state *st) {
  if (st->monitor_pid <= 0) return;
  for (int i = 0; i < 1000; i++) { /* 10 s */
    if (kill(st->monitor_pid, 0) < 0 && errno == ESRCH) return;
    unsigned long long t = proc_start_time(st->monitor_pid);
    if (t == 0 || (st->monitor_start_time && t != st->monitor_start_time)) return;
    /* a zombie monitor (its parent has not reaped it yet) is done too */
    char p[64];
    snprintf(p, sizeof p, "/proc/%d/stat", (int)st->monitor_pid);
    char *s = read_file(p, NULL);
    if (s) {
      char *c = strrchr(s, ')');
      bool zombie = c && (c[2] == 'Z' || c[2] == 'X');
      free(s);
      if (zombie) return;
    }
    struct timespec ts = { 0, 10 * 1000 * 1000 };
    nanosleep(&ts, NULL);
  }
  warnx_("container %s: its monitor (pid %d) did not exit", st->id, (int)st->monitor_pid);
}
