/* tty.c: process.terminal. The child opens a pty from the container's devpts instance,
 * makes the slave its controlling terminal on fds 0-2 and hands the master out: to the
 * --console-socket (SCM_RIGHTS, as runc/crun) or to our own parent, which then proxies
 * between its terminal (raw mode, window size followed) and the master; what was typed on
 * its terminal before it went raw is passed on as typed (take_typed_ahead). */
#include "runtime.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

int send_fd(int sock, int fd) {
  char data = 'T';
  struct iovec iov = { &data, 1 };
  union { char buf[CMSG_SPACE(sizeof(int))]; struct cmsghdr align; } u;
  memset(&u, 0, sizeof u);
  struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf };
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET; c->cmsg_type = SCM_RIGHTS; c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), &fd, sizeof fd);
  return sendmsg(sock, &msg, MSG_NOSIGNAL) < 0 ? -1 : 0;
}

int recv_fd(int sock) {
  char data;
  struct iovec iov = { &data, 1 };
  union { char buf[CMSG_SPACE(sizeof(int))]; struct cmsghdr align; } u;
  struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf };
  if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) <= 0) return -1;
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  if (!c || c->cmsg_type != SCM_RIGHTS) { errno = EBADMSG; return -1; }
  int fd;
  memcpy(&fd, CMSG_DATA(c), sizeof fd);
  return fd;
}

int tty_connect_console_socket(const char *path) {
  int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0) return -1;
  struct sockaddr_un a = { .sun_family = AF_UNIX };
  if (strlen(path) >= sizeof a.sun_path) { close(s); errno = ENAMETOOLONG; return -1; }
  strcpy(a.sun_path, path);
  if (connect(s, (struct sockaddr *)&a, sizeof a) < 0) { int e = errno; close(s); errno = e; return -1; }
  return s;
}

void tty_setup_child(int console_fd, int sync_fd, const struct process_spec *p) {
  int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0) die_errno("open /dev/ptmx");
  if (unlockpt(master) < 0) die_errno("unlockpt");
  int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY);
  if (slave < 0) {
    char name[128];
    if (ptsname_r(master, name, sizeof name) != 0) die_errno("ptsname");
    slave = open(name, O_RDWR | O_NOCTTY);
    if (slave < 0) die_errno("open %s", name);
  }
  struct winsize ws;
  if (p->console_height && p->console_width) {
    ws = (struct winsize){ .ws_row = (unsigned short)p->console_height, .ws_col = (unsigned short)p->console_width };
    ioctl(slave, TIOCSWINSZ, &ws);
  } else if (console_fd < 0 && ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0) {
    /* proxied: start with the size of the terminal we run on (SIGWINCH follows it) */
    ioctl(slave, TIOCSWINSZ, &ws);
  }
  if (setsid() < 0) die_errno("setsid");
  if (ioctl(slave, TIOCSCTTY, 0) < 0) die_errno("make the pty the controlling terminal");
  for (int fd = 0; fd < 3; fd++) if (dup2(slave, fd) < 0) die_errno("dup2 pty");
  if (slave > 2) close(slave);
  int to = console_fd >= 0 ? console_fd : sync_fd;
  if (send_fd(to, master) < 0) die_errno("send the pty master to %s", console_fd >= 0 ? "the console socket" : "pkit-runtime");
  close(master);
  if (console_fd >= 0) close(console_fd);
}

/* ---- parent side proxy ---------------------------------------------------------------- */

static struct termios saved_tio;
static bool tio_saved;

/* Input typed before our terminal went raw, passed on to the container's first. */
static char typed_ahead[16384];
static size_t typed_len;

static bool ends_line(unsigned char c, const struct termios *t) {
  return c == '\n' || (t->c_cc[VEOL] != _POSIX_VDISABLE && c == t->c_cc[VEOL]) ||
         (t->c_cc[VEOL2] != _POSIX_VDISABLE && c == t->c_cc[VEOL2]);
}

/* A terminal in canonical mode keeps an end-of-file (its EOF key; script(1) types one when
 * its input ends) as a NUL in its input queue, which read() turns into a return of 0. Once
 * the terminal is raw, that NUL is an input byte like any other: passed on, the container's
 * terminal would echo it as "^@" and its reader would never see the end-of-file. So, still
 * in canonical mode, take what is complete (lines, end-of-files) and keep it as it was typed:
 * a line as it is, an end-of-file as the EOF character, which raw mode passes on the same
 * way later. A partial line stays queued and is read raw. Not from a background process
 * group (SIGTTIN); through a non-blocking descriptor of our own when the terminal can be
 * opened again (stdin's is shared), else stdin's once poll says a read will not block. */
static void take_typed_ahead(void) {
  if (!(saved_tio.c_lflag & ICANON) || tcgetpgrp(STDIN_FILENO) != getpgrp()) return;
  char path[32];
  snprintf(path, sizeof path, "/proc/self/fd/%d", STDIN_FILENO);
  int own = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  int fd = own >= 0 ? own : STDIN_FILENO;
  char eof = (char)saved_tio.c_cc[VEOF];
  /* a canonical read returns at most one line of at most 4096 bytes: room for a whole one */
  while (sizeof typed_ahead - typed_len > 4096) {
    struct pollfd p = { fd, POLLIN, 0 };
    int r = poll(&p, 1, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r != 1 || p.revents != POLLIN) break; /* nothing complete left, or hung up */
    ssize_t n = read(fd, typed_ahead + typed_len, 4096);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    typed_len += (size_t)n;
    bool eof_typed = n == 0 || !ends_line((unsigned char)typed_ahead[typed_len - 1], &saved_tio);
    if (eof_typed && eof != _POSIX_VDISABLE) typed_ahead[typed_len++] = eof;
  }
  if (own >= 0) close(own);
}

static void restore_tty(void) {
  if (tio_saved) tcsetattr(STDIN_FILENO, TCSANOW, &saved_tio);
}

static void copy_winsize(int master) {
  struct winsize ws;
  if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0) ioctl(master, TIOCSWINSZ, &ws);
}

/* Copies what is readable, returns false at EOF/error. */
static bool pump(int from, int to) {
  char buf[16384];
  ssize_t n = read(from, buf, sizeof buf);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return true;
  if (n <= 0) return false;
  return write_all(to, buf, (size_t)n) >= 0;
}

void tty_raw_begin(void) {
  if (tio_saved || !isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &saved_tio) < 0) return;
  tio_saved = true;
  atexit(restore_tty);
  die_hook = restore_tty;
  if (!tty_no_input) take_typed_ahead();
  struct termios raw = saved_tio;
  cfmakeraw(&raw);
  tcsetattr(STDIN_FILENO, TCSANOW, &raw);
}

/* run --no-stdin (prun run -t without -i, as podman): the container's terminal gets no input
 * from ours. Ours still goes raw, as podman's does, so the output is passed on unchanged. */
bool tty_no_input = false;

int tty_proxy_wait(int master, int sfd, pid_t pid) {
  tty_raw_begin();
  if (tio_saved) copy_winsize(master);
  if (typed_len) (void)!write_all(master, typed_ahead, typed_len); /* fails only when no one reads it */
  typed_len = 0;
  bool in_open = !tty_no_input, out_open = true;
  int code = -1;
  for (;;) {
    struct pollfd pfd[3] = {
      { sfd, POLLIN, 0 },
      { out_open ? master : -1, POLLIN, 0 },
      { in_open ? STDIN_FILENO : -1, POLLIN, 0 },
    };
    int n = poll(pfd, 3, code >= 0 ? 100 : -1);
    if (n < 0 && errno != EINTR) break;
    if (n == 0 && code >= 0) break; /* the process is gone and the master drained */
    if (pfd[0].revents & POLLIN) {
      struct signalfd_siginfo si;
      while (read(sfd, &si, sizeof si) == (ssize_t)sizeof si) {
        if (si.ssi_signo == SIGWINCH) { copy_winsize(master); continue; }
        if (si.ssi_signo == SIGCHLD || si.ssi_signo == SIGPIPE) continue;
        kill(pid, (int)si.ssi_signo);
      }
    }
    if (pfd[1].revents) { if (!pump(master, STDOUT_FILENO)) out_open = false; }
    if (pfd[2].revents && !pump(STDIN_FILENO, master)) {
      in_open = false;
      /* our terminal hung up: hang up the container's session, as a terminal would; a
       * plain input at EOF: pass the EOF on as the pty's end-of-file character */
      if (tio_saved) kill(pid, SIGHUP);
      else { char eof = 4; (void)!write(master, &eof, 1); }
    }
    if (code < 0) {
      int st;
      pid_t r;
      while ((r = waitpid(-1, &st, WNOHANG)) > 0) {
        if (r == pid) code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
      }
    }
    if (code >= 0 && !out_open) break;
  }
  restore_tty();
  return code >= 0 ? code : EXIT_RUNTIME;
}
