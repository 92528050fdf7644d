/* util.c: error reporting, allocation, small file helpers. */
#include "runtime.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

const char *prog_name = "pkit-runtime";
int child_error_fd = -1;
void (*die_hook)(void);

static void vreport(int err, const char *fmt, va_list ap) {
  char msg[4096];
  int n = vsnprintf(msg, sizeof msg, fmt, ap);
  if (n < 0) n = 0;
  if ((size_t)n >= sizeof msg) n = sizeof msg - 1;
  if (err) snprintf(msg + n, sizeof msg - n, ": %s", strerror(err));
  if (child_error_fd >= 0) {
    /* One message on the SEQPACKET sync socket: 'E' + text. The parent prints it. */
    char buf[4200];
    int m = snprintf(buf, sizeof buf, "E%s", msg);
    if (send(child_error_fd, buf, (size_t)m, MSG_NOSIGNAL) >= 0) return;
  }
  dprintf(STDERR_FILENO, "%s: %s\n", prog_name, msg);
}

void warnx_(const char *fmt, ...) {
  va_list ap; va_start(ap, fmt);
  int fd = child_error_fd; child_error_fd = -1; /* warnings always go to stderr */
  vreport(0, fmt, ap);
  child_error_fd = fd;
  va_end(ap);
}
void warn_errno(const char *fmt, ...) {
  int e = errno; va_list ap; va_start(ap, fmt);
  int fd = child_error_fd; child_error_fd = -1;
  vreport(e, fmt, ap);
  child_error_fd = fd;
  va_end(ap);
}
void die(const char *fmt, ...) {
  va_list ap; va_start(ap, fmt); vreport(0, fmt, ap); va_end(ap);
  if (die_hook) die_hook();
  _exit(EXIT_RUNTIME);
}
void die_errno(const char *fmt, ...) {
  int e = errno; va_list ap; va_start(ap, fmt); vreport(e, fmt, ap); va_end(ap);
  if (die_hook) die_hook();
  _exit(EXIT_RUNTIME);
}

void *xmalloc(size_t n) {
  void *p = malloc(n ? n : 1);
  if (!p) die("out of memory");
  return p;
}
void *xcalloc(size_t n, size_t m) {
  void *p = calloc(n ? n : 1, m ? m : 1);
  if (!p) die("out of memory");
  return p;
}
char *xstrdup(const char *s) {
  char *p = strdup(s ? s : "");
  if (!p) die("out of memory");
  return p;
}
char *xasprintf(const char *fmt, ...) {
  va_list ap; va_start(ap, fmt);
  char *p = NULL;
  if (vasprintf(&p, fmt, ap) < 0) die("out of memory");
  va_end(ap);
  return p;
}

ssize_t write_all(int fd, const void *buf, size_t len) {
  const char *p = buf; size_t done = 0;
  while (done < len) {
    ssize_t w = write(fd, p + done, len - done);
    if (w < 0) { if (errno == EINTR) continue; return -1; }
    done += (size_t)w;
  }
  return (ssize_t)done;
}
ssize_t read_all(int fd, void *buf, size_t len) {
  char *p = buf; size_t done = 0;
  while (done < len) {
    ssize_t r = read(fd, p + done, len - done);
    if (r < 0) { if (errno == EINTR) continue; return -1; }
    if (r == 0) break;
    done += (size_t)r;
  }
  return (ssize_t)done;
}

int write_file(const char *path, const char *data, size_t len) {
  int fd = open(path, O_WRONLY | O_CLOEXEC | O_TRUNC);
  if (fd < 0) return -1;
  if (write_all(fd, data, len) < 0) { int e = errno; close(fd); errno = e; return -1; }
  return close(fd);
}

int write_file_atomic(const char *path, const char *data, size_t len) {
  char *tmp = xasprintf("%s.tmp-%d", path, (int)getpid());
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) { free(tmp); return -1; }
  if (write_all(fd, data, len) < 0 || fsync(fd) < 0) {
    int e = errno; close(fd); unlink(tmp); free(tmp); errno = e; return -1;
  }
  close(fd);
  if (rename(tmp, path) < 0) { int e = errno; unlink(tmp); free(tmp); errno = e; return -1; }
  free(tmp);
  return 0;
}

char *read_file(const char *path, size_t *len) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return NULL;
  size_t cap = 4096, n = 0;
  char *buf = xmalloc(cap + 1);
  for (;;) {
    if (n == cap) { cap *= 2; char *nb = realloc(buf, cap + 1); if (!nb) die("out of memory"); buf = nb; }
    ssize_t r = read(fd, buf + n, cap - n);
    if (r < 0) { if (errno == EINTR) continue; int e = errno; free(buf); close(fd); errno = e; return NULL; }
    if (r == 0) break;
    n += (size_t)r;
  }
  close(fd);
  buf[n] = 0;
  if (len) *len = n;
  return buf;
}

int mkdir_p(const char *path, mode_t mode) {
  char *p = xstrdup(path);
  for (char *s = p + 1; *s; s++) {
    if (*s != '/') continue;
    *s = 0;
    if (mkdir(p, mode) < 0 && errno != EEXIST) { int e = errno; free(p); errno = e; return -1; }
    *s = '/';
  }
  int r = mkdir(p, mode);
  int e = errno;
  free(p);
  if (r < 0 && e != EEXIST) { errno = e; return -1; }
  return 0;
}

/* Field 22 of /proc/PID/stat: start time in clock ticks since boot. Identifies a pid
 * across reuse. */
unsigned long long proc_start_time(pid_t pid) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  char *s = read_file(path, NULL);
  if (!s) return 0;
  char *p = strrchr(s, ')');
  unsigned long long v = 0;
  if (p) {
    /* after ") " come fields 3.. ; start time is field 22 */
    int field = 2;
    for (char *q = p + 1; *q; q++) {
      if (*q == ' ') {
        field++;
        if (field == 22) { v = strtoull(q + 1, NULL, 10); break; }
      }
    }
  }
  free(s);
  return v;
}
