/* userns.c: `userns-exec`, a command run as root inside a new user namespace (the user
 * namespace shell of the store: layer extraction with many owners, removal of files owned by
 * subordinate ids). Node cannot unshare a user namespace (it is multithreaded); this helper is
 * single-threaded, so it can.
 *
 * Parent (this process)                          Child (clone: new user + mount namespace)
 *   clone --------------------------------------->  waits for "G" on a pipe
 *   writes gid_map, uid_map (idmap.c: one map of
 *   our own id directly after setgroups "deny",
 *   anything else via newgidmap/newuidmap)
 *   sends "G" (or kills the child on failure) ---> setresgid/setresuid(0), mounts rprivate,
 *                                                  parent-death signal, fds 3.. closed on exec
 *                                                  (but --preserve-fds N), execvp(CMD)
 *   waits, forwarding signals; exits with the child's code (128+N on signal N)
 *
 * stdin, stdout and stderr are the child's own (inherited). Our failures: one line
 * "pkit-runtime: ..." and exit 125; CMD not found 127, not executable 126 (as `run`). */
#include "runtime.h"
#include "userns.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* The kernel takes at most 340 lines per map. */
#define MAX_MAP_LINES 340

struct map_list { struct id_mapping *m; size_t n; };

static bool parse_u32(const char *s, size_t len, uint32_t *out) {
  if (len == 0 || len > 10) return false;
  uint64_t v = 0;
  for (size_t i = 0; i < len; i++) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (uint64_t)(s[i] - '0');
  }
  if (v > UINT32_MAX) return false;
  *out = (uint32_t)v;
  return true;
}

/* "C:H:N[,C:H:N...]" appended to l. */
static void parse_maps(const char *opt, const char *val, struct map_list *l) {
  const char *p = val;
  for (;;) {
    const char *end = strchr(p, ',');
    size_t len = end ? (size_t)(end - p) : strlen(p);
    const char *c1 = memchr(p, ':', len);
    const char *c2 = c1 ? memchr(c1 + 1, ':', len - (size_t)(c1 + 1 - p)) : NULL;
    struct id_mapping m;
    if (!c1 || !c2 || !parse_u32(p, (size_t)(c1 - p), &m.container_id) ||
        !parse_u32(c1 + 1, (size_t)(c2 - c1 - 1), &m.host_id) ||
        !parse_u32(c2 + 1, len - (size_t)(c2 + 1 - p), &m.size) || m.size == 0 ||
        (uint64_t)m.container_id + m.size > 1ULL << 32 || (uint64_t)m.host_id + m.size > 1ULL << 32)
      die("userns-exec: %s: invalid mapping \"%.*s\" (expected CONTAINER:HOST:SIZE, SIZE > 0)", opt, (int)len, p);
    if (l->n >= MAX_MAP_LINES) die("userns-exec: %s: more than %d mappings", opt, MAX_MAP_LINES);
    struct id_mapping *nm = realloc(l->m, (l->n + 1) * sizeof *nm);
    if (!nm) die("out of memory");
    l->m = nm;
    l->m[l->n++] = m;
    if (!end) break;
    p = end + 1;
  }
}

static bool maps_id(const struct map_list *l, uint32_t id) {
  for (size_t i = 0; i < l->n; i++)
    if (id >= l->m[i].container_id && id - l->m[i].container_id < l->m[i].size) return true;
  return false;
}

/* --name VALUE or --name=VALUE at argv[*i]; advances *i past a separate value. */
static bool opt_value(int argc, char **argv, int *i, const char *name, const char **val) {
  const char *a = argv[*i];
  size_t l = strlen(name);
  if (strncmp(a, name, l) != 0) return false;
  if (a[l] == '=') { *val = a + l + 1; return true; }
  if (a[l] != 0) return false;
  if (*i + 1 >= argc) die("userns-exec: option %s needs a value", name);
  *val = argv[++*i];
  return true;
}

/* execvp, but a PATH directory we may not search (root's home seen from a user namespace
 * where host root is unmapped) counts as "not there": 127 unless a candidate exists and
 * cannot be executed (126), as `run`. */
_Noreturn static void exec_cmd(char **cmd) {
  const char *a0 = cmd[0];
  int e;
  if (strchr(a0, '/')) {
    execv(a0, cmd);
    e = errno;
    dprintf(STDERR_FILENO, "%s: exec %s: %s\n", prog_name, a0, strerror(e));
    _exit(e == ENOENT || e == ENOTDIR ? 127 : 126);
  }
  const char *path = getenv("PATH");
  if (!path || !*path) path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  char *copy = xstrdup(path), *save = NULL, *denied = NULL;
  int denied_err = 0;
  for (char *dir = strtok_r(copy, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
    char *cand = xasprintf("%s/%s", *dir ? dir : ".", a0);
    struct stat st;
    if (stat(cand, &st) < 0 || S_ISDIR(st.st_mode)) { free(cand); continue; }
    execv(cand, cmd);
    e = errno;
    if (!denied) { denied = cand; denied_err = e; } else free(cand);
  }
  if (denied) {
    dprintf(STDERR_FILENO, "%s: exec %s: %s\n", prog_name, denied, strerror(denied_err));
    _exit(126);
  }
  dprintf(STDERR_FILENO, "%s: exec: \"%s\": executable file not found in $PATH\n", prog_name, a0);
  _exit(127);
}

_Noreturn static void child_main(int go_fd, pid_t parent, char **cmd) {
  signals_unblock();
  char go = 0;
  ssize_t r;
  while ((r = read(go_fd, &go, 1)) < 0 && errno == EINTR) {}
  /* no "G": the parent failed and has said why */
  if (r != 1 || go != 'G') _exit(EXIT_RUNTIME);
  close(go_fd);

  if (setresgid(0, 0, 0) < 0) die_errno("userns-exec: setresgid 0 in the user namespace");
  if (setresuid(0, 0, 0) < 0) die_errno("userns-exec: setresuid 0 in the user namespace");
  /* Mounts made by CMD stay in its own mount namespace (and host mounts do not arrive). */
  if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) die_errno("userns-exec: make / rprivate");
  /* Set after the id changes (which clear it): if we die, CMD dies too. */
  if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0) die_errno("userns-exec: prctl(PR_SET_PDEATHSIG)");
  if (getppid() != parent) _exit(EXIT_RUNTIME);
  close_extra_fds();

  exec_cmd(cmd);
}

int cmd_userns_exec(int argc, char **argv) {
  struct map_list um = { NULL, 0 }, gm = { NULL, 0 };
  const char *v = NULL;
  int i = 0;
  for (; i < argc && argv[i][0] == '-'; i++) {
    if (strcmp(argv[i], "--") == 0) { i++; break; }
    if (opt_value(argc, argv, &i, "--uid-map", &v)) { parse_maps("--uid-map", v, &um); continue; }
    if (opt_value(argc, argv, &i, "--gid-map", &v)) { parse_maps("--gid-map", v, &gm); continue; }
    if (opt_value(argc, argv, &i, "--preserve-fds", &v)) {
      char *end;
      long n = strtol(v, &end, 10);
      if (!*v || *end || n < 0 || n > 1 << 20) die("userns-exec: option --preserve-fds: not a number: %s", v);
      preserve_fds = (int)n;
      continue;
    }
    die("userns-exec: unknown option %s (--uid-map, --gid-map, --preserve-fds)", argv[i]);
  }
  if (i >= argc) die("userns-exec: expected a command (userns-exec [--uid-map C:H:N,...] [--gid-map C:H:N,...] -- CMD [ARG...])");
  char **cmd = argv + i;
  /* The child becomes 0/0: both must be mapped (without maps: 0 -> our own ids). */
  if (um.n && !maps_id(&um, 0)) die("userns-exec: --uid-map does not map uid 0");
  if (gm.n && !maps_id(&gm, 0)) die("userns-exec: --gid-map does not map gid 0");

  struct spec s;
  memset(&s, 0, sizeof s);
  s.uid_mappings = um.m; s.n_uid_mappings = um.n;
  s.gid_mappings = gm.m; s.n_gid_mappings = gm.n;

  int go[2];
  if (pipe2(go, O_CLOEXEC) < 0) die_errno("userns-exec: pipe");
  int sfd = signals_block();
  pid_t self = getpid();
  fflush(NULL);
  /* clone with a NULL stack behaves like fork, the child already in the new namespaces */
  pid_t pid = (pid_t)syscall(SYS_clone, (unsigned long)(CLONE_NEWUSER | CLONE_NEWNS | SIGCHLD), NULL, NULL, NULL, 0UL);
  if (pid < 0) {
    if (errno == EPERM || errno == ENOSPC || errno == EINVAL)
      die_errno("userns-exec: create a user namespace (clone): are unprivileged user namespaces enabled? (sysctl kernel.unprivileged_userns_clone, user.max_user_namespaces)");
    die_errno("userns-exec: create a user namespace (clone)");
  }
  if (pid == 0) {
    close(go[1]);
    close(sfd);
    child_main(go[0], self, cmd);
  }
  close(go[0]);
  char *err = NULL;
  if (idmap_write(pid, &s, &err) < 0) {
    close(go[1]);
    kill(pid, SIGKILL);
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {}
    die("userns-exec: %s", err);
  }
  if (write_all(go[1], "G", 1) != 1) {
    int e = errno;
    kill(pid, SIGKILL);
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {}
    errno = e;
    die_errno("userns-exec: start the child");
  }
  close(go[1]);
  free(um.m);
  free(gm.m);
  return signals_wait_forward(sfd, pid, NULL, NULL, 0, NULL);
}
