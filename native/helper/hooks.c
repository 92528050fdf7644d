/* hooks.c: OCI hooks that the runtime runs itself: prestart and createRuntime (container.c
 * calls them after the namespaces exist, the id maps are written and the cgroups joined, and
 * before the container's init goes on with its setup, so before pivot_root). They run in the
 * runtime's namespaces, one after the other, each:
 *   - with the container state (status "creating") on stdin, from a memfd (never blocks us);
 *   - with its own environment (an empty one when the spec gives none) and args (argv[0] =
 *     path when the spec gives none), every fd but 0-2 closed, the signal mask restored;
 *   - in a process group of its own, stdout and stderr into one pipe of which we keep the tail.
 * A hook fails the start when it exits non-zero, dies of a signal or outlives its timeout
 * (then it is killed with its process group). The error is one line: the hook's last line of
 * output, else its path and exit code.
 * A hook may leave a daemon behind (network-hook does). We wait for the hook's exit (pidfd),
 * never for EOF on its output, which such a daemon could hold. */
#include "runtime.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *kind_names[HOOK__COUNT] = {
  [HOOK_PRESTART] = "prestart", [HOOK_CREATE_RUNTIME] = "createRuntime",
  [HOOK_CREATE_CONTAINER] = "createContainer", [HOOK_START_CONTAINER] = "startContainer",
  [HOOK_POSTSTART] = "poststart", [HOOK_POSTSTOP] = "poststop",
};

const char *hook_kind_name(enum hook_kind k) { return kind_names[k]; }

int pidfd_of(pid_t pid) { return (int)syscall(SYS_pidfd_open, pid, 0); }

/* ---- output tails ---------------------------------------------------------------------- */

void output_tail_add(struct output_tail *t, const char *p, size_t n) {
  if (n >= OUTPUT_TAIL) {
    memcpy(t->buf, p + n - OUTPUT_TAIL, OUTPUT_TAIL);
    t->len = OUTPUT_TAIL;
    return;
  }
  if (t->len + n > OUTPUT_TAIL) {
    size_t drop = t->len + n - OUTPUT_TAIL;
    memmove(t->buf, t->buf + drop, t->len - drop);
    t->len -= drop;
  }
  memcpy(t->buf + t->len, p, n);
  t->len += n;
}

bool output_tail_drain(struct output_tail *t, int fd) {
  char buf[4096];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n > 0) { output_tail_add(t, buf, (size_t)n); continue; }
    if (n < 0 && errno == EINTR) continue;
    return n < 0 && errno == EAGAIN;
  }
}

char *output_tail_last_line(const struct output_tail *t, bool (*skip)(const char *line)) {
  char *text = xmalloc(t->len + 1);
  memcpy(text, t->buf, t->len);
  text[t->len] = 0;
  char *found = NULL;
  for (char *line = text, *next; line; line = next) {
    next = strchr(line, '\n');
    if (next) *next++ = 0;
    while (*line == ' ' || *line == '\t' || *line == '\r') line++;
    size_t l = strlen(line);
    while (l && (line[l - 1] == ' ' || line[l - 1] == '\t' || line[l - 1] == '\r')) line[--l] = 0;
    if (l && !(skip && skip(line))) found = line;
  }
  char *out = found ? xstrdup(found) : NULL;
  free(text);
  return out;
}

/* ---- running one hook ------------------------------------------------------------------ */

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

_Noreturn static void exec_hook(const struct hook_spec *h, int in, int out) {
  die_hook = NULL;
  child_error_fd = -1;
  signals_unblock();
  setpgid(0, 0);
  if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0) _exit(127);
  if (syscall(SYS_close_range, 3U, ~0U, 0) < 0)
    for (int fd = 3; fd < 1024; fd++) close(fd);
  char *argv0[] = { h->path, NULL }, *noenv[] = { NULL };
  execve(h->path, h->n_args ? h->args : argv0, h->env ? h->env : noenv);
  dprintf(2, "cannot run %s: %s\n", h->path, strerror(errno));
  _exit(127);
}

static int run_one(enum hook_kind k, const struct hook_spec *h, const char *state_json, char **err) {
  const char *kind = hook_kind_name(k);
  int in = memfd_create("pkit-hook-state", MFD_CLOEXEC);
  if (in < 0 || write_all(in, state_json, strlen(state_json)) < 0 || lseek(in, 0, SEEK_SET) < 0) {
    *err = xasprintf("%s hook %s: cannot pass the state: %s", kind, h->path, strerror(errno));
    if (in >= 0) close(in);
    return -1;
  }
  int out[2];
  if (pipe2(out, O_CLOEXEC) < 0) {
    *err = xasprintf("%s hook %s: pipe: %s", kind, h->path, strerror(errno));
    close(in);
    return -1;
  }
  fflush(NULL);
  pid_t pid = fork();
  if (pid < 0) {
    *err = xasprintf("%s hook %s: fork: %s", kind, h->path, strerror(errno));
    close(in); close(out[0]); close(out[1]);
    return -1;
  }
  if (pid == 0) exec_hook(h, in, out[1]);
  close(in);
  close(out[1]);
  fcntl(out[0], F_SETFL, O_NONBLOCK);
  int pfd = pidfd_of(pid);
  struct output_tail tail = { .len = 0 };
  long long deadline = h->timeout > 0 ? now_ms() + h->timeout * 1000 : -1;
  bool timed_out = false, reaped = false;
  int outfd = out[0], st = 0;
  for (;;) {
    struct pollfd p[2] = { { pfd, POLLIN, 0 }, { outfd, POLLIN, 0 } };
    int wait = -1;
    if (deadline >= 0) {
      long long left = deadline - now_ms();
      wait = left < 0 ? 0 : (int)left;
    }
    if (pfd < 0 && (wait < 0 || wait > 10)) wait = 10; /* no pidfd: poll for the exit */
    int n = poll(p, 2, wait);
    if (n < 0 && errno != EINTR) break;
    if (n > 0 && p[1].revents && !output_tail_drain(&tail, outfd)) outfd = -1;
    if (n > 0 && (p[0].revents & POLLIN)) break;
    if (pfd < 0 && waitpid(pid, &st, WNOHANG) == pid) { reaped = true; break; }
    if (deadline >= 0 && now_ms() >= deadline) {
      timed_out = true;
      kill(-pid, SIGKILL);
      kill(pid, SIGKILL);
      break;
    }
  }
  while (!reaped && waitpid(pid, &st, 0) < 0 && errno == EINTR) {}
  if (outfd >= 0) output_tail_drain(&tail, outfd);
  close(out[0]);
  if (pfd >= 0) close(pfd);
  if (!timed_out && WIFEXITED(st) && WEXITSTATUS(st) == 0) return 0;

  char *said = output_tail_last_line(&tail, NULL);
  if (timed_out) *err = xasprintf("%s hook %s timed out after %lld s%s%s", kind, h->path, (long long)h->timeout, said ? ": " : "", said ? said : "");
  else if (said) *err = xasprintf("%s hook failed: %s", kind, said);
  else if (WIFEXITED(st)) *err = xasprintf("%s hook %s failed (exit %d)", kind, h->path, WEXITSTATUS(st));
  else *err = xasprintf("%s hook %s was killed by signal %d", kind, h->path, WTERMSIG(st));
  free(said);
  return -1;
}

int hooks_run(const struct spec *s, enum hook_kind k, const char *state_json, char **err) {
  for (size_t i = 0; i < s->n_hooks[k]; i++)
    if (run_one(k, &s->hooks[k][i], state_json, err) < 0) return -1;
  return 0;
}
