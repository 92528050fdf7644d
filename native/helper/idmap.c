/* idmap.c: uid/gid maps of the child's user namespace, written by the parent.
 * One mapping of our own id (or any mapping when we are root in the initial namespace) is
 * written directly, after "deny" to setgroups as the kernel requires for gid_map; anything
 * else goes through the setuid helpers newuidmap/newgidmap, which check /etc/subuid. */
#include "runtime.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char *format_map(const struct id_mapping *m, size_t n) {
  size_t cap = n * 40 + 1, len = 0;
  char *buf = xmalloc(cap);
  buf[0] = 0;
  for (size_t i = 0; i < n; i++)
    len += (size_t)snprintf(buf + len, cap - len, "%u %u %u\n", m[i].container_id, m[i].host_id, m[i].size);
  return buf;
}

static int run_helper(const char *helper, pid_t pid, const struct id_mapping *m, size_t n, char **err) {
  char **argv = xcalloc(3 + 3 * n + 1, sizeof(char *));
  size_t a = 0;
  argv[a++] = (char *)helper;
  argv[a++] = xasprintf("%d", (int)pid);
  for (size_t i = 0; i < n; i++) {
    argv[a++] = xasprintf("%u", m[i].container_id);
    argv[a++] = xasprintf("%u", m[i].host_id);
    argv[a++] = xasprintf("%u", m[i].size);
  }
  argv[a] = NULL;
  int ep[2];
  if (pipe2(ep, O_CLOEXEC) < 0) { *err = xasprintf("pipe: %s", strerror(errno)); return -1; }
  pid_t c = fork();
  if (c < 0) { *err = xasprintf("fork %s: %s", helper, strerror(errno)); return -1; }
  if (c == 0) {
    execvp(helper, argv);
    int e = errno;
    (void)!write(ep[1], &e, sizeof e);
    _exit(127);
  }
  close(ep[1]);
  int e = 0;
  ssize_t r = read(ep[0], &e, sizeof e);
  close(ep[0]);
  int st;
  while (waitpid(c, &st, 0) < 0 && errno == EINTR) {}
  for (size_t i = 1; i < a; i++) free(argv[i]);
  free(argv);
  if (r == (ssize_t)sizeof e) {
    if (e == ENOENT) *err = xasprintf("%s not found: install the uidmap package", helper);
    else *err = xasprintf("cannot run %s: %s", helper, strerror(e));
    return -1;
  }
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
    *err = xasprintf("%s failed (exit %d): check the ranges in /etc/sub%cid for this user",
                     helper, WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st), helper[3]);
    return -1;
  }
  return 0;
}

static bool can_write_directly(const struct id_mapping *m, size_t n, uint32_t own) {
  if (geteuid() == 0) {
    /* root in the initial user namespace may write any map */
    char *s = read_file("/proc/self/uid_map", NULL);
    bool init = s && strstr(s, "4294967295") != NULL;
    free(s);
    if (init) return true;
  }
  return n == 1 && m[0].size == 1 && m[0].host_id == own;
}

static int write_map(pid_t pid, const char *which, const struct id_mapping *m, size_t n, char **err) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, which);
  char *txt = format_map(m, n);
  int r = write_file(path, txt, strlen(txt));
  free(txt);
  if (r < 0) { *err = xasprintf("write %s: %s", path, strerror(errno)); return -1; }
  return 0;
}

int idmap_write(pid_t pid, const struct spec *s, char **err) {
  struct id_mapping def_u = { 0, (uint32_t)geteuid(), 1 }, def_g = { 0, (uint32_t)getegid(), 1 };
  const struct id_mapping *um = s->uid_mappings, *gm = s->gid_mappings;
  size_t nu = s->n_uid_mappings, ng = s->n_gid_mappings;
  /* No mappings in the spec: map container root to ourselves (a single id). */
  if (nu == 0) { um = &def_u; nu = 1; }
  if (ng == 0) { gm = &def_g; ng = 1; }

  bool gid_direct = can_write_directly(gm, ng, (uint32_t)getegid());
  bool uid_direct = can_write_directly(um, nu, (uint32_t)geteuid());
  /* gid_map first, as newgidmap expects; setgroups must say "deny" before an unprivileged
   * process may write gid_map itself. */
  if (gid_direct) {
    if (geteuid() != 0) {
      char path[64];
      snprintf(path, sizeof path, "/proc/%d/setgroups", (int)pid);
      if (write_file(path, "deny", 4) < 0 && errno != ENOENT) {
        *err = xasprintf("write %s: %s", path, strerror(errno));
        return -1;
      }
    }
    if (write_map(pid, "gid_map", gm, ng, err) < 0) return -1;
  } else if (run_helper("newgidmap", pid, gm, ng, err) < 0) {
    return -1;
  }
  if (uid_direct) {
    if (write_map(pid, "uid_map", um, nu, err) < 0) return -1;
  } else if (run_helper("newuidmap", pid, um, nu, err) < 0) {
    return -1;
  }
  return 0;
}
