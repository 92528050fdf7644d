/* idmap.c: uid/gid maps of the child's user namespace, written by the parent.
 * One mapping of our own id (or any mapping when we are root in the initial namespace) is
 * written directly, after "deny" to setgroups as the kernel requires for gid_map; anything
 * else goes through the setuid helpers newgidmap/newuidmap (run side by side), which check
 * /etc/subgid and /etc/subuid. */
#include "runtime.h"

#include <errno.h>
#include <signal.h>
#include <spawn.h>
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

/* newuidmap or newgidmap on its way: started, not yet waited for. */
struct map_helper { const char *name; pid_t pid; int spawn_err; };

/* Starts HELPER PID C H N... (posix_spawnp: no copy of our memory, and an exec failure
 * comes back as the return value); collected by helper_finish. */
static void helper_start(struct map_helper *h, const char *helper, pid_t pid, const struct id_mapping *m, size_t n) {
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
  /* our forwarded signals are blocked (signals_block); the helper gets a clean mask */
  posix_spawnattr_t attr;
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_init(&attr);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
  h->name = helper;
  h->pid = -1;
  h->spawn_err = posix_spawnp(&h->pid, helper, NULL, &attr, argv, environ);
  posix_spawnattr_destroy(&attr);
  for (size_t i = 1; i < a; i++) free(argv[i]);
  free(argv);
}

/* Waits for a started helper; its error in *err (if none is there yet). */
static int helper_finish(struct map_helper *h, char **err) {
  if (h->spawn_err) {
    if (!*err) {
      if (h->spawn_err == ENOENT) *err = xasprintf("%s not found: install the uidmap package", h->name);
      else *err = xasprintf("cannot run %s: %s", h->name, strerror(h->spawn_err));
    }
    return -1;
  }
  int st;
  while (waitpid(h->pid, &st, 0) < 0) {
    if (errno == EINTR) continue;
    if (!*err) *err = xasprintf("wait for %s: %s", h->name, strerror(errno));
    return -1;
  }
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
    if (!*err)
      *err = xasprintf("%s failed (exit %d): check the ranges in /etc/sub%cid for this user",
                       h->name, WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st), h->name[3]);
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
  /* newgidmap and newuidmap run at the same time (each ~2 ms, mostly its exec and dynamic
   * linking); the two maps are independent files. Both are always waited for. */
  struct map_helper gh = { 0 }, uh = { 0 };
  if (!gid_direct) helper_start(&gh, "newgidmap", pid, gm, ng);
  if (!uid_direct) helper_start(&uh, "newuidmap", pid, um, nu);
  int r = 0;
  /* setgroups must say "deny" before an unprivileged process may write gid_map itself */
  if (gid_direct) {
    if (geteuid() != 0) {
      char path[64];
      snprintf(path, sizeof path, "/proc/%d/setgroups", (int)pid);
      if (write_file(path, "deny", 4) < 0 && errno != ENOENT) {
        *err = xasprintf("write %s: %s", path, strerror(errno));
        r = -1;
      }
    }
    if (r == 0 && write_map(pid, "gid_map", gm, ng, err) < 0) r = -1;
  }
  if (r == 0 && uid_direct && write_map(pid, "uid_map", um, nu, err) < 0) r = -1;
  /* newgidmap's error first, as when it ran first */
  if (!gid_direct && helper_finish(&gh, err) < 0) r = -1;
  if (!uid_direct && helper_finish(&uh, err) < 0) r = -1;
  return r;
}
