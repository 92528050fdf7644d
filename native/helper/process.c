/* process.c: the container process's own settings, applied last before execve:
 * rlimits, oom_score_adj, groups and ids, capabilities (all five sets), no_new_privs, cwd,
 * fds, PATH lookup and the exec itself. */
#include "runtime.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <limits.h>
#include <linux/close_range.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static int last_cap(void) {
  static int cached = -1;
  if (cached >= 0) return cached;
  char *s = read_file("/proc/sys/kernel/cap_last_cap", NULL);
  cached = s ? atoi(s) : 40;
  free(s);
  if (cached <= 0 || cached > 63) cached = 40;
  return cached;
}

uint64_t caps_all_known(void) {
  int lc = last_cap();
  return lc >= 63 ? ~0ULL : ((1ULL << (lc + 1)) - 1);
}

void process_apply_rlimits(const struct process_spec *p) {
  for (size_t i = 0; i < p->n_rlimits; i++) {
    struct rlimit rl = { (rlim_t)p->rlimits[i].soft, (rlim_t)p->rlimits[i].hard };
    if (setrlimit(p->rlimits[i].resource, &rl) < 0)
      die_errno("setrlimit %d (soft %llu, hard %llu)", p->rlimits[i].resource,
                (unsigned long long)p->rlimits[i].soft, (unsigned long long)p->rlimits[i].hard);
  }
}

void process_apply_oom(const struct process_spec *p) {
  if (!p->has_oom_score_adj) return;
  char buf[32];
  int n = snprintf(buf, sizeof buf, "%d", p->oom_score_adj);
  if (write_file("/proc/self/oom_score_adj", buf, (size_t)n) < 0)
    die_errno("write oom_score_adj %d", p->oom_score_adj);
}

static int capset3(uint64_t eff, uint64_t perm, uint64_t inh) {
  struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
  struct __user_cap_data_struct d[2] = {
    { (uint32_t)eff, (uint32_t)perm, (uint32_t)inh },
    { (uint32_t)(eff >> 32), (uint32_t)(perm >> 32), (uint32_t)(inh >> 32) },
  };
  return (int)syscall(SYS_capset, &h, d);
}

void process_apply_user_and_caps(const struct process_spec *p, bool in_userns) {
  (void)in_userns;
  uint64_t known = caps_all_known();
  const struct caps_spec *c = &p->caps;
  /* Without a capabilities object the process gets none (the spec's meaning of absent). */
  uint64_t bnd = c->present ? c->bounding & known : 0;
  uint64_t eff = c->present ? c->effective & known : 0;
  uint64_t prm = c->present ? c->permitted & known : 0;
  uint64_t inh = c->present ? c->inheritable & known : 0;
  uint64_t amb = c->present ? c->ambient & known : 0;

  /* Bounding set first, while CAP_SETPCAP is still effective. */
  for (int i = 0; i <= last_cap(); i++) {
    if (bnd & (1ULL << i)) continue;
    if (prctl(PR_CAPBSET_DROP, i, 0, 0, 0) < 0 && errno != EINVAL) die_errno("drop capability %d from the bounding set", i);
  }
  if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) die_errno("prctl PR_SET_KEEPCAPS");
  if (p->n_additional_gids || getuid() == 0) {
    gid_t *g = xcalloc(p->n_additional_gids, sizeof(gid_t));
    for (size_t i = 0; i < p->n_additional_gids; i++) g[i] = p->additional_gids[i];
    if (setgroups(p->n_additional_gids, g) < 0) {
      /* setgroups is denied in a user namespace with a single written gid map; an empty
       * list is what the process has then anyway. */
      if (!(errno == EPERM && p->n_additional_gids == 0)) die_errno("setgroups");
    }
    free(g);
  }
  if (setresgid(p->gid, p->gid, p->gid) < 0) die_errno("setgid %u", p->gid);
  if (setresuid(p->uid, p->uid, p->uid) < 0) die_errno("setuid %u", p->uid);
  if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0) die_errno("prctl PR_SET_KEEPCAPS");
  /* Permitted may only shrink: set it with effective and inheritable in one capset. */
  if (capset3(eff, prm, inh) < 0) die_errno("capset");
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL) die_errno("clear ambient capabilities");
  for (int i = 0; i <= last_cap(); i++) {
    if (!(amb & (1ULL << i))) continue;
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, i, 0, 0) < 0) {
      /* ambient needs the cap in permitted and inheritable; crun warns and goes on */
      if (errno == EPERM) continue;
      die_errno("raise ambient capability %d", i);
    }
  }
}

void process_apply_nnp(const struct process_spec *p) {
  if (p->no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) die_errno("prctl PR_SET_NO_NEW_PRIVS");
}

/* A missing cwd is made (0755, as the container's root), as runc does: an image's WorkingDir
 * need not exist in its layers (buildah records WORKDIR in the config only). Errors are left
 * to the chdir that follows. */
void process_make_cwd(const struct process_spec *p) {
  if (!p->cwd || access(p->cwd, F_OK) == 0) return;
  char path[PATH_MAX];
  if (snprintf(path, sizeof path, "%s", p->cwd) >= (int)sizeof path) return;
  for (char *c = path + 1; *c; c++) {
    if (*c != '/') continue;
    *c = '\0';
    mkdir(path, 0755);
    *c = '/';
  }
  mkdir(path, 0755);
}

void process_chdir(const struct process_spec *p) {
  if (chdir(p->cwd) < 0) die_errno("chdir to cwd %s", p->cwd);
}

int preserve_fds = 0;

void close_extra_fds(void) {
  unsigned first = 3 + (unsigned)preserve_fds;
  /* preserved fds are passed on open */
  for (unsigned fd = 3; fd < first; fd++) {
    int fl = fcntl((int)fd, F_GETFD);
    if (fl >= 0) fcntl((int)fd, F_SETFD, fl & ~FD_CLOEXEC);
  }
  /* Mark every fd above 2 close-on-exec: the execve closes them all, and fds we still need
   * until then (the sync socket, the exec fifo) stay usable. */
  if (syscall(SYS_close_range, first, ~0U, CLOSE_RANGE_CLOEXEC) == 0) return;
  for (int fd = (int)first; fd < 65536; fd++) {
    int fl = fcntl(fd, F_GETFD);
    if (fl >= 0) fcntl(fd, F_SETFD, fl | FD_CLOEXEC);
  }
}

static const char *env_get(const struct process_spec *p, const char *name) {
  size_t nl = strlen(name);
  for (size_t i = 0; i < p->n_env; i++)
    if (strncmp(p->env[i], name, nl) == 0 && p->env[i][nl] == '=') return p->env[i] + nl + 1;
  return NULL;
}

/* Exit codes as runc/podman: 127 not found, 126 found but not executable. The message
 * goes to the container's stderr, since by now it is the container's failure. */
_Noreturn static void exec_fail(int code, const char *fmt, const char *arg, int err) {
  if (err) dprintf(STDERR_FILENO, "%s: ", prog_name);
  else dprintf(STDERR_FILENO, "%s: ", prog_name);
  dprintf(STDERR_FILENO, fmt, arg);
  if (err) dprintf(STDERR_FILENO, ": %s", strerror(err));
  dprintf(STDERR_FILENO, "\n");
  _exit(code);
}

static int check_exe(const char *path) {
  struct stat st;
  if (stat(path, &st) < 0) return errno;
  if (S_ISDIR(st.st_mode)) return EISDIR;
  if (access(path, X_OK) < 0) return errno;
  return 0;
}

char *process_resolve_exe(const struct process_spec *p) {
  const char *a0 = p->args[0];
  if (strchr(a0, '/')) {
    int e = check_exe(a0);
    if (e == ENOENT || e == ENOTDIR) exec_fail(127, "exec %s", a0, e);
    if (e) exec_fail(126, "exec %s", a0, e);
    return xstrdup(a0);
  }
  const char *path = env_get(p, "PATH");
  if (!path) path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  int first_err = 0;
  char *copy = xstrdup(path), *save = NULL;
  for (char *dir = strtok_r(copy, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
    char *cand = xasprintf("%s/%s", *dir ? dir : ".", a0);
    int e = check_exe(cand);
    if (e == 0) { free(copy); return cand; }
    if (e != ENOENT && e != ENOTDIR && !first_err) first_err = e;
    free(cand);
  }
  free(copy);
  if (first_err) exec_fail(126, "exec %s", a0, first_err);
  exec_fail(127, "exec: \"%s\": executable file not found in $PATH", a0, 0);
}

_Noreturn void process_exec(const struct process_spec *p, const char *exe) {
  execve(exe, p->args, p->env);
  int e = errno;
  exec_fail(e == ENOENT ? 127 : 126, "exec %s", exe, e);
}
