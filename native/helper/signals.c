/* signals.c: signal names, and the parent's wait loop that forwards the signals it receives
 * to the container's init (through a signalfd, so nothing runs in a handler). */
#include "runtime.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

static const struct { const char *name; int sig; } sig_names[] = {
  {"HUP", SIGHUP}, {"INT", SIGINT}, {"QUIT", SIGQUIT}, {"ILL", SIGILL}, {"TRAP", SIGTRAP},
  {"ABRT", SIGABRT}, {"IOT", SIGIOT}, {"BUS", SIGBUS}, {"FPE", SIGFPE}, {"KILL", SIGKILL},
  {"USR1", SIGUSR1}, {"SEGV", SIGSEGV}, {"USR2", SIGUSR2}, {"PIPE", SIGPIPE},
  {"ALRM", SIGALRM}, {"TERM", SIGTERM}, {"STKFLT", SIGSTKFLT}, {"CHLD", SIGCHLD},
  {"CONT", SIGCONT}, {"STOP", SIGSTOP}, {"TSTP", SIGTSTP}, {"TTIN", SIGTTIN},
  {"TTOU", SIGTTOU}, {"URG", SIGURG}, {"XCPU", SIGXCPU}, {"XFSZ", SIGXFSZ},
  {"VTALRM", SIGVTALRM}, {"PROF", SIGPROF}, {"WINCH", SIGWINCH}, {"IO", SIGIO},
  {"POLL", SIGPOLL}, {"PWR", SIGPWR}, {"SYS", SIGSYS},
};

int signal_from_name(const char *s) {
  if (!s || !*s) return -1;
  char *end;
  long n = strtol(s, &end, 10);
  if (*end == 0) return (n > 0 && n < NSIG) ? (int)n : -1;
  if (strncasecmp(s, "SIG", 3) == 0) s += 3;
  for (size_t i = 0; i < sizeof sig_names / sizeof *sig_names; i++)
    if (strcasecmp(s, sig_names[i].name) == 0) return sig_names[i].sig;
  if (strncasecmp(s, "RTMIN", 5) == 0 || strncasecmp(s, "RTMAX", 5) == 0) {
    bool min = strncasecmp(s, "RTMIN", 5) == 0;
    const char *r = s + 5;
    long off = 0;
    if (*r == '+' || *r == '-') off = strtol(r, &end, 10); else end = (char *)r;
    if (*end) return -1;
    int v = (int)((min ? SIGRTMIN : SIGRTMAX) + off);
    return (v >= SIGRTMIN && v <= SIGRTMAX) ? v : -1;
  }
  return -1;
}

static sigset_t forwarded(void) {
  sigset_t set;
  sigfillset(&set);
  /* not forwarded: those the kernel sends us for our own faults, and the uncatchable ones */
  sigdelset(&set, SIGKILL); sigdelset(&set, SIGSTOP);
  sigdelset(&set, SIGSEGV); sigdelset(&set, SIGBUS); sigdelset(&set, SIGILL); sigdelset(&set, SIGFPE);
  sigdelset(&set, SIGTRAP); sigdelset(&set, SIGSYS); sigdelset(&set, SIGABRT);
  sigdelset(&set, SIGTTIN); sigdelset(&set, SIGTTOU); sigdelset(&set, SIGTSTP);
  return set;
}

static sigset_t saved_mask;

int signals_block(void) {
  sigset_t set = forwarded();
  if (sigprocmask(SIG_BLOCK, &set, &saved_mask) < 0) die_errno("sigprocmask");
  int fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
  if (fd < 0) die_errno("signalfd");
  return fd;
}

void signals_unblock(void) {
  sigprocmask(SIG_SETMASK, &saved_mask, NULL);
}

static int status_code(int st) {
  if (WIFEXITED(st)) return WEXITSTATUS(st);
  if (WIFSIGNALED(st)) return 128 + WTERMSIG(st);
  return EXIT_RUNTIME;
}

int signals_wait_forward(int sfd, pid_t pid, void (*on_fd)(int fd, void *arg), int *fds, size_t nfds, void *arg) {
  struct pollfd pfd[8];
  if (nfds > 7) nfds = 7;
  for (;;) {
    int st;
    pid_t r;
    /* Reap everything: we may be a subreaper (exec) and must not leave zombies. */
    while ((r = waitpid(-1, &st, WNOHANG)) > 0) {
      if (r == pid) return status_code(st);
    }
    if (r < 0 && errno == ECHILD) return EXIT_RUNTIME;
    pfd[0] = (struct pollfd){ sfd, POLLIN, 0 };
    for (size_t i = 0; i < nfds; i++) pfd[i + 1] = (struct pollfd){ fds[i], POLLIN, 0 };
    int n = poll(pfd, 1 + nfds, -1);
    if (n < 0) { if (errno == EINTR) continue; die_errno("poll"); }
    if (pfd[0].revents & POLLIN) {
      struct signalfd_siginfo si;
      while (read(sfd, &si, sizeof si) == (ssize_t)sizeof si) {
        if (si.ssi_signo == SIGCHLD) continue;
        if (si.ssi_signo == SIGPIPE) continue; /* ours, from a closed output; not the container's */
        if (kill(pid, (int)si.ssi_signo) < 0 && errno != ESRCH) warn_errno("forward signal %u", si.ssi_signo);
      }
    }
    for (size_t i = 0; i < nfds; i++) {
      if (fds[i] < 0 || !pfd[i + 1].revents) continue;
      if (on_fd) on_fd(fds[i], arg);
      /* stop watching a closed fd (poll skips negative fds); the process exit ends the loop */
      if ((pfd[i + 1].revents & (POLLHUP | POLLERR | POLLNVAL)) && !(pfd[i + 1].revents & POLLIN)) fds[i] = -1;
    }
  }
}
