/* nethook.c: `network-hook`, the createRuntime hook that gives a container's network namespace
 * a user-mode network (slirp4netns or pasta) that lives exactly as long as the container.
 *
 *   pkit-runtime network-hook slirp4netns|pasta [--publish PROTO,HOST_IP,HOST_PORT,CTR_PORT,COUNT]...
 *                -- TOOL [ARG...]
 *
 * The state on stdin names the container's init (pid); its user and network namespaces exist
 * and its id maps are written (the runtime runs createRuntime hooks then). TOOL is started on
 * that pid with the caller's ARGs and what only we know:
 *   slirp4netns ARGS --configure --exit-fd 3 --ready-fd 4 [--api-socket S] PID tap0
 *     ready once it writes to fd 4; the --publish ports are then added through its API
 *     socket (add_hostfwd), which lives in a private temp dir removed right after;
 *   pasta ARGS --foreground --pid FIFO PID
 *     ready once it writes its pid into FIFO (it does after configuring the namespace and
 *     binding its -t/-u ports, which the caller put into ARGS); the --publish ports are
 *     checked before it starts (it does not fail when only one address family is taken).
 *
 *   runtime                hook (this process)            supervisor                 TOOL
 *   fork+exec, state ---> pidfd of the init, fork ----->  setsid, fds 0-2 /dev/null
 *                         reads the report pipe           fork+exec --------------->  parent-death
 *                                                         waits: ready / tool exit /  signal KILL
 *                                                         init exit / hook gone
 *                                                         ports (slirp4netns API)
 *   goes on <- exit 0 <-- "R"  <------------------------  "R"; then waits for the init's exit
 *   fails   <- exit 1 <-- "E<one line>" <--------------   (stops the tool, exits)
 *
 * The supervisor keeps no fd of the runtime, so it holds no pipe anyone waits on, and it is in
 * a session of its own, so a terminal's ^C does not reach it. When the container's init exits
 * (in any way: run, run --detach, kill, delete), it stops the tool (slirp4netns: EOF on its
 * exit fd; pasta: SIGTERM; SIGKILL after 2 s) and exits. The tool gets the parent-death signal
 * SIGKILL, so a killed supervisor takes it along. A failure before "R" stops the tool, says
 * why in one line, and exits 1; a published port that cannot be bound is named with the bind
 * error (slirp4netns' own answer is only "slirp_add_hostfwd failed"). */
#include "runtime.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define STOP_GRACE_MS 2000
#define API_TIMEOUT_MS 5000
#define MAX_STATE (1 << 20)

enum tool { TOOL_SLIRP4NETNS, TOOL_PASTA };

struct publish { char proto[4]; char host_ip[INET6_ADDRSTRLEN]; unsigned host_port, ctr_port, count; };

struct net {
  enum tool tool;
  const char *name;           /* "slirp4netns" or "pasta", for messages */
  char **tool_argv; int tool_argc;
  struct publish *pub; size_t n_pub;
  pid_t ctr_pid; int ctr_fd;  /* the container's init and its pidfd */
  int report_fd;              /* to the hook process */
  pid_t tool_pid; int tool_fd, out_fd;
  struct output_tail out;     /* the tool's stdout and stderr */
  int exit_w;                 /* slirp4netns: the other end of its exit fd */
  char *tmp_dir, *api_sock, *pid_fifo;
};

/* In the hook process: one plain line (the runtime shows it as the hook's error). */
_Noreturn static void hook_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void hook_fail(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  exit(1);
}

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- arguments ------------------------------------------------------------------------- */

static bool parse_uint(const char *s, unsigned max, unsigned *out) {
  char *end;
  errno = 0;
  unsigned long v = strtoul(s, &end, 10);
  if (errno || end == s || *end || v > max) return false;
  *out = (unsigned)v;
  return true;
}

/* PROTO,HOST_IP,HOST_PORT,CTR_PORT,COUNT (HOST_IP may be empty: every address) */
static void parse_publish(const char *v, struct publish *p) {
  char *copy = xstrdup(v), *f[5];
  int n = 0;
  for (char *s = copy, *c; n < 5; s = c + 1) {
    f[n++] = s;
    c = strchr(s, ',');
    if (!c) break;
    *c = 0;
  }
  if (n != 5 || (strcmp(f[0], "tcp") != 0 && strcmp(f[0], "udp") != 0) || strlen(f[1]) >= sizeof p->host_ip ||
      !parse_uint(f[2], 65535, &p->host_port) || !parse_uint(f[3], 65535, &p->ctr_port) ||
      !parse_uint(f[4], 65535, &p->count) || p->host_port == 0 || p->ctr_port == 0 || p->count == 0 ||
      p->host_port + p->count - 1 > 65535 || p->ctr_port + p->count - 1 > 65535)
    hook_fail("network-hook: --publish %s: expected tcp|udp,HOST_IP,HOST_PORT,CONTAINER_PORT,COUNT", v);
  snprintf(p->proto, sizeof p->proto, "%s", f[0]);
  snprintf(p->host_ip, sizeof p->host_ip, "%s", f[1]);
  free(copy);
}

static void parse_args(struct net *n, int argc, char **argv) {
  if (argc < 1) hook_fail("network-hook: expected slirp4netns or pasta");
  if (strcmp(argv[0], "slirp4netns") == 0) n->tool = TOOL_SLIRP4NETNS;
  else if (strcmp(argv[0], "pasta") == 0) n->tool = TOOL_PASTA;
  else hook_fail("network-hook: unknown network tool %s (slirp4netns, pasta)", argv[0]);
  n->name = argv[0];
  n->pub = xcalloc((size_t)argc, sizeof *n->pub);
  int i = 1;
  for (; i < argc && strcmp(argv[i], "--") != 0; i++) {
    if (strcmp(argv[i], "--publish") == 0 && i + 1 < argc) parse_publish(argv[++i], &n->pub[n->n_pub++]);
    else if (strncmp(argv[i], "--publish=", 10) == 0) parse_publish(argv[i] + 10, &n->pub[n->n_pub++]);
    else hook_fail("network-hook: unknown option %s", argv[i]);
  }
  if (i >= argc - 1) hook_fail("network-hook: expected -- TOOL [ARG...]");
  n->tool_argv = argv + i + 1;
  n->tool_argc = argc - i - 1;
  if (n->tool_argv[0][0] != '/') hook_fail("network-hook: the tool path %s must be absolute", n->tool_argv[0]);
}

/* The container's init from the state on stdin. */
static pid_t state_pid(void) {
  char *buf = xmalloc(MAX_STATE + 1);
  ssize_t len = read_all(0, buf, MAX_STATE);
  if (len < 0) hook_fail("network-hook: read the state from stdin: %s", strerror(errno));
  buf[len] = 0;
  json_object *o = json_tokener_parse(buf), *v = NULL;
  free(buf);
  if (!o || !json_object_object_get_ex(o, "pid", &v) || !json_object_is_type(v, json_type_int))
    hook_fail("network-hook: the state on stdin has no pid");
  pid_t pid = (pid_t)json_object_get_int(v);
  json_object_put(o);
  if (pid <= 0) hook_fail("network-hook: the state on stdin has no pid");
  return pid;
}

/* ---- the supervisor: reporting and stopping ------------------------------------------- */

static void cleanup_tmp(struct net *n) {
  if (n->api_sock) { unlink(n->api_sock); free(n->api_sock); n->api_sock = NULL; }
  if (n->pid_fifo) { unlink(n->pid_fifo); free(n->pid_fifo); n->pid_fifo = NULL; }
  if (n->tmp_dir) { rmdir(n->tmp_dir); free(n->tmp_dir); n->tmp_dir = NULL; }
}

/* Waits up to ms for the tool to exit; true if it did. */
static bool tool_exited_within(struct net *n, int ms) {
  long long end = now_ms() + ms;
  for (;;) {
    long long left = end - now_ms();
    struct pollfd p = { n->tool_fd, POLLIN, 0 };
    int r = poll(&p, 1, left < 0 ? 0 : (int)left);
    if (r > 0) return true;
    if (r == 0 || errno != EINTR) return false;
  }
}

/* The tool is our unreaped child: its pid cannot be reused until waitpid, so kill() is safe. */
static void stop_tool(struct net *n, bool hard) {
  if (n->tool_pid <= 0) return;
  if (hard) kill(n->tool_pid, SIGKILL);
  else if (n->exit_w >= 0) { close(n->exit_w); n->exit_w = -1; } /* slirp4netns exits on EOF there */
  else kill(n->tool_pid, SIGTERM);
  if (!hard && !tool_exited_within(n, STOP_GRACE_MS)) kill(n->tool_pid, SIGKILL);
  if (n->tool_pid > 0) while (waitpid(n->tool_pid, NULL, 0) < 0 && errno == EINTR) {}
  n->tool_pid = -1;
}

_Noreturn static void supervisor_fail(struct net *n, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void supervisor_fail(struct net *n, const char *fmt, ...) {
  char msg[1024];
  msg[0] = 'E';
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg + 1, sizeof msg - 1, fmt, ap);
  va_end(ap);
  stop_tool(n, true);
  cleanup_tmp(n);
  if (n->report_fd >= 0) (void)!write(n->report_fd, msg, strlen(msg));
  _exit(1);
}

/* The container or the hook process went away during the setup: nothing to report to. */
_Noreturn static void supervisor_quit(struct net *n) {
  stop_tool(n, true);
  cleanup_tmp(n);
  _exit(0);
}

/* ---- diagnosing a port that cannot be published --------------------------------------- */

/* 0 if proto host_ip:port can be bound here now, else the errno of bind. */
static int probe_bind(const char *proto, const char *host_ip, unsigned port) {
  struct sockaddr_storage ss;
  memset(&ss, 0, sizeof ss);
  socklen_t len;
  struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
  struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
  if (!*host_ip || inet_pton(AF_INET, host_ip, &a4->sin_addr) == 1) {
    a4->sin_family = AF_INET;
    a4->sin_port = htons((uint16_t)port);
    len = sizeof *a4;
  } else if (inet_pton(AF_INET6, host_ip, &a6->sin6_addr) == 1) {
    a6->sin6_family = AF_INET6;
    a6->sin6_port = htons((uint16_t)port);
    len = sizeof *a6;
  } else {
    return EINVAL;
  }
  bool udp = strcmp(proto, "udp") == 0;
  int fd = socket(ss.ss_family, (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);
  if (fd < 0) return errno;
  int one = 1;
  if (!udp) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one); /* as the tools do */
  int e = bind(fd, (struct sockaddr *)&ss, len) < 0 ? errno : 0;
  close(fd);
  return e;
}

/* Why port (of p) cannot be published, or NULL when it could be bound now. */
static char *port_error(const struct publish *p, unsigned port) {
  int e = probe_bind(p->proto, p->host_ip, port);
  if (!e) return NULL;
  const char *ip = *p->host_ip ? p->host_ip : "0.0.0.0";
  bool v6 = strchr(ip, ':') != NULL;
  return xasprintf("cannot publish %s%s%s:%u/%s: %s%s", v6 ? "[" : "", ip, v6 ? "]" : "", port, p->proto, strerror(e),
                   e == EACCES ? " (binding ports below net.ipv4.ip_unprivileged_port_start needs privileges)" : "");
}

/* The first published port that cannot be bound, or NULL. */
static char *blocked_port(const struct net *n) {
  for (size_t i = 0; i < n->n_pub; i++)
    for (unsigned k = 0; k < n->pub[i].count; k++) {
      char *why = port_error(&n->pub[i], n->pub[i].host_port + k);
      if (why) return why;
    }
  return NULL;
}

/* Lines of the tools' output that never explain a failure: warnings, pasta's syslog trouble,
 * and slirp4netns' trailers after the line that says why. */
static bool noise(const char *line) {
  return strncmp(line, "WARNING: Support for", 20) == 0 || (strncmp(line, "Failed to send", 14) == 0 && strstr(line, "syslog")) ||
         strncmp(line, "child failed", 12) == 0 || strcmp(line, "parent failed") == 0 || strcmp(line, "do_slirp failed") == 0;
}

_Noreturn static void tool_failed(struct net *n) {
  output_tail_drain(&n->out, n->out_fd);
  int st = 0;
  while (waitpid(n->tool_pid, &st, 0) < 0 && errno == EINTR) {}
  n->tool_pid = -1;
  char *port = blocked_port(n);
  if (port) supervisor_fail(n, "%s: %s", n->name, port);
  char *said = output_tail_last_line(&n->out, noise);
  if (said) supervisor_fail(n, "%s failed: %s", n->name, said);
  if (WIFEXITED(st)) supervisor_fail(n, "%s exited with code %d during setup", n->name, WEXITSTATUS(st));
  supervisor_fail(n, "%s was killed by signal %d during setup", n->name, WTERMSIG(st));
}

/* ---- starting the tool ----------------------------------------------------------------- */

/* fds: what the tool gets as 3, 4, ... (n_fds of them). */
static void spawn_tool(struct net *n, char **argv, const int *fds, int n_fds) {
  int out[2];
  if (pipe2(out, O_CLOEXEC) < 0) supervisor_fail(n, "%s: pipe: %s", n->name, strerror(errno));
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) supervisor_fail(n, "%s: fork: %s", n->name, strerror(errno));
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    if (getppid() != parent) _exit(1);
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null < 0 || dup2(null, 0) < 0 || dup2(out[1], 1) < 0 || dup2(out[1], 2) < 0) _exit(127);
    /* out of the way of 3.., then into place (dup2 clears close-on-exec) */
    int high[8];
    for (int i = 0; i < n_fds; i++)
      if ((high[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 100)) < 0) _exit(127);
    for (int i = 0; i < n_fds; i++)
      if (dup2(high[i], 3 + i) < 0) _exit(127);
    if (syscall(SYS_close_range, (unsigned)(3 + n_fds), ~0U, 0) < 0)
      for (int fd = 3 + n_fds; fd < 1024; fd++) close(fd);
    execv(argv[0], argv);
    dprintf(2, "cannot run %s: %s\n", argv[0], strerror(errno));
    _exit(127);
  }
  close(out[1]);
  n->out_fd = out[0];
  fcntl(n->out_fd, F_SETFL, O_NONBLOCK);
  n->tool_pid = pid;
  n->tool_fd = pidfd_of(pid);
  if (n->tool_fd < 0) supervisor_fail(n, "%s: pidfd_open: %s", n->name, strerror(errno));
}

/* Waits until ready_fd has data. The tool exiting fails the setup; the container exiting or
 * the hook process going away (it was killed: the runtime gave up) ends it quietly. */
static void wait_ready(struct net *n, int ready_fd) {
  for (;;) {
    struct pollfd p[5] = {
      { ready_fd, POLLIN, 0 }, { n->tool_fd, POLLIN, 0 }, { n->ctr_fd, POLLIN, 0 },
      { n->out_fd, POLLIN, 0 }, { n->report_fd, 0, 0 },
    };
    int r = poll(p, 5, -1);
    if (r < 0) {
      if (errno == EINTR) continue;
      supervisor_fail(n, "%s: poll: %s", n->name, strerror(errno));
    }
    if (p[3].revents && !output_tail_drain(&n->out, n->out_fd)) n->out_fd = -1;
    if (p[0].revents & POLLIN) {
      char buf[64];
      ssize_t got = read(ready_fd, buf, sizeof buf);
      if (got > 0) return;
    }
    if (p[2].revents) supervisor_quit(n);
    if (p[4].revents & (POLLERR | POLLHUP)) supervisor_quit(n);
    if (p[1].revents) tool_failed(n);
  }
}

static void make_tmp_dir(struct net *n) {
  const char *base = getenv("TMPDIR");
  if (!base || base[0] != '/') base = "/tmp";
  n->tmp_dir = xasprintf("%s/pkit-net-XXXXXX", base);
  if (!mkdtemp(n->tmp_dir)) {
    int e = errno;
    free(n->tmp_dir);
    n->tmp_dir = NULL;
    supervisor_fail(n, "%s: cannot create a temporary directory in %s: %s", n->name, base, strerror(e));
  }
}

/* argv: the caller's TOOL ARGS, then extra (NULL-terminated) */
static char **tool_argv(const struct net *n, char **extra) {
  size_t ne = 0;
  while (extra[ne]) ne++;
  char **argv = xcalloc((size_t)n->tool_argc + ne + 1, sizeof *argv);
  for (int i = 0; i < n->tool_argc; i++) argv[i] = n->tool_argv[i];
  for (size_t i = 0; i < ne; i++) argv[(size_t)n->tool_argc + i] = extra[i];
  return argv;
}

/* One request on slirp4netns' API socket; NULL on success, else the reason. */
static char *api_call(const char *sock, const char *req) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return xasprintf("socket: %s", strerror(errno));
  struct sockaddr_un sa = { .sun_family = AF_UNIX };
  snprintf(sa.sun_path, sizeof sa.sun_path, "%s", sock);
  if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) { int e = errno; close(fd); return xasprintf("connect to its API socket: %s", strerror(e)); }
  if (write_all(fd, req, strlen(req)) < 0) { int e = errno; close(fd); return xasprintf("write to its API socket: %s", strerror(e)); }
  shutdown(fd, SHUT_WR);
  char resp[4096];
  size_t len = 0;
  long long end = now_ms() + API_TIMEOUT_MS;
  for (;;) {
    long long left = end - now_ms();
    struct pollfd p = { fd, POLLIN, 0 };
    if (left <= 0 || poll(&p, 1, (int)left) == 0) { close(fd); return xstrdup("no answer from its API socket"); }
    ssize_t r = read(fd, resp + len, sizeof resp - 1 - len);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0 || (len += (size_t)r) == sizeof resp - 1) break;
  }
  close(fd);
  resp[len] = 0;
  json_object *o = json_tokener_parse(resp), *e = NULL, *d = NULL;
  char *why = NULL;
  if (!o) why = xasprintf("unexpected answer from its API socket: %.200s", resp);
  else if (json_object_object_get_ex(o, "error", &e))
    why = xstrdup(json_object_object_get_ex(e, "desc", &d) ? json_object_get_string(d) : json_object_to_json_string(e));
  if (o) json_object_put(o);
  return why;
}

static void slirp4netns_publish(struct net *n) {
  for (size_t i = 0; i < n->n_pub; i++) {
    const struct publish *p = &n->pub[i];
    if (strchr(p->host_ip, ':')) supervisor_fail(n, "slirp4netns cannot publish on the IPv6 address %s: use pasta", p->host_ip);
    for (unsigned k = 0; k < p->count; k++) {
      char *req = xasprintf("{\"execute\":\"add_hostfwd\",\"arguments\":{\"proto\":\"%s\",\"host_addr\":\"%s\",\"host_port\":%u,\"guest_port\":%u}}",
                            p->proto, *p->host_ip ? p->host_ip : "0.0.0.0", p->host_port + k, p->ctr_port + k);
      char *why = api_call(n->api_sock, req);
      free(req);
      if (!why) continue;
      /* only this port: slirp4netns holds the ones added before it */
      char *port = port_error(p, p->host_port + k);
      if (port) supervisor_fail(n, "slirp4netns: %s", port);
      supervisor_fail(n, "slirp4netns: cannot publish %s:%u/%s: %s", *p->host_ip ? p->host_ip : "0.0.0.0", p->host_port + k, p->proto, why);
    }
  }
}

static void start_slirp4netns(struct net *n) {
  int ex[2], rd[2];
  if (pipe2(ex, O_CLOEXEC) < 0 || pipe2(rd, O_CLOEXEC) < 0) supervisor_fail(n, "slirp4netns: pipe: %s", strerror(errno));
  n->exit_w = ex[1];
  char pid[16];
  snprintf(pid, sizeof pid, "%d", (int)n->ctr_pid);
  char *extra[] = { "--configure", "--exit-fd=3", "--ready-fd=4", NULL, NULL, NULL, NULL };
  int e = 3;
  if (n->n_pub) {
    make_tmp_dir(n);
    n->api_sock = xasprintf("%s/api.sock", n->tmp_dir);
    extra[e++] = xasprintf("--api-socket=%s", n->api_sock);
  }
  extra[e++] = pid;
  extra[e++] = "tap0";
  int fds[2] = { ex[0], rd[1] };
  spawn_tool(n, tool_argv(n, extra), fds, 2);
  close(ex[0]);
  close(rd[1]);
  wait_ready(n, rd[0]);
  close(rd[0]);
  slirp4netns_publish(n);
  cleanup_tmp(n); /* slirp4netns keeps its listening socket; nobody else needs the name */
}

static void start_pasta(struct net *n) {
  /* pasta (2023-03) starts when it can bind a port on IPv6 but not on IPv4, or the other way
   * round: a port someone else holds must fail here, so look first (racy, but clear) */
  char *port = blocked_port(n);
  if (port) supervisor_fail(n, "pasta: %s", port);
  make_tmp_dir(n);
  n->pid_fifo = xasprintf("%s/pid", n->tmp_dir);
  if (mkfifo(n->pid_fifo, 0600) < 0) supervisor_fail(n, "pasta: mkfifo %s: %s", n->pid_fifo, strerror(errno));
  /* open for reading first, so pasta's open for writing does not block */
  int fifo = open(n->pid_fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fifo < 0) supervisor_fail(n, "pasta: open %s: %s", n->pid_fifo, strerror(errno));
  char pid[16];
  snprintf(pid, sizeof pid, "%d", (int)n->ctr_pid);
  char *extra[] = { "--foreground", "--pid", n->pid_fifo, pid, NULL };
  spawn_tool(n, tool_argv(n, extra), NULL, 0);
  wait_ready(n, fifo);
  close(fifo);
  cleanup_tmp(n);
}

/* ---- after the setup ------------------------------------------------------------------- */

_Noreturn static void supervise(struct net *n) {
  for (;;) {
    struct pollfd p[3] = { { n->ctr_fd, POLLIN, 0 }, { n->tool_fd, POLLIN, 0 }, { n->out_fd, POLLIN, 0 } };
    int r = poll(p, 3, -1);
    if (r < 0) {
      if (errno == EINTR) continue;
      break;
    }
    /* the tool's output after the setup is not kept: it must not block on a full pipe */
    if (p[2].revents && !output_tail_drain(&n->out, n->out_fd)) { close(n->out_fd); n->out_fd = -1; }
    if (p[0].revents) break;
    if (p[1].revents) { while (waitpid(n->tool_pid, NULL, 0) < 0 && errno == EINTR) {} _exit(0); }
  }
  stop_tool(n, false);
  _exit(0);
}

_Noreturn static void supervisor_main(struct net *n) {
  if (setsid() < 0) { /* already a group leader: cannot happen after fork */ }
  int null = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null >= 0) for (int fd = 0; fd < 3; fd++) dup2(null, fd);
  if (null > 2) close(null);
  if (chdir("/") < 0) { /* keeps nothing busy either way */ }
  if (n->tool == TOOL_SLIRP4NETNS) start_slirp4netns(n);
  else start_pasta(n);
  (void)!write(n->report_fd, "R", 1);
  close(n->report_fd);
  n->report_fd = -1;
  supervise(n);
}

int cmd_network_hook(int argc, char **argv) {
  struct net n = { .ctr_fd = -1, .report_fd = -1, .tool_pid = -1, .tool_fd = -1, .out_fd = -1, .exit_w = -1 };
  parse_args(&n, argc, argv);
  n.ctr_pid = state_pid();
  /* opened while the runtime waits for us, so the pid is still the container's */
  n.ctr_fd = pidfd_of(n.ctr_pid);
  if (n.ctr_fd < 0) hook_fail("network-hook: the container's process %d: %s", (int)n.ctr_pid, strerror(errno));
  int rp[2];
  if (pipe2(rp, O_CLOEXEC) < 0) hook_fail("network-hook: pipe: %s", strerror(errno));
  fflush(NULL);
  pid_t s = fork();
  if (s < 0) hook_fail("network-hook: fork: %s", strerror(errno));
  if (s == 0) {
    close(rp[0]);
    n.report_fd = rp[1];
    supervisor_main(&n);
  }
  close(rp[1]);
  char buf[1100];
  ssize_t len = read_all(rp[0], buf, sizeof buf - 1);
  if (len > 0 && buf[0] == 'R') return 0;
  /* the supervisor exited: reap it here, so that its exit does not reach a subreaping runtime
   * together with ours (crun waits for one SIGCHLD from the hook's pid) */
  while (waitpid(s, NULL, 0) < 0 && errno == EINTR) {}
  if (len > 1 && buf[0] == 'E') {
    buf[len] = 0;
    hook_fail("%s", buf + 1);
  }
  hook_fail("%s: the network supervisor exited during setup", n.name);
}
