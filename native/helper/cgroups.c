/* cgroups.c: linux.resources (memory limit/swap, cpu quota/period/shares, pids limit).
 *
 * With no resources asked for, cgroups are not touched at all (a rootless container on a
 * host without delegation still runs). With resources: cgroup v2 when the controllers are
 * on a unified hierarchy and a delegated place is writable (a sibling of our own cgroup,
 * or below it); else the writable v1 hierarchies (memory, cpu, pids), below our own cgroup
 * in each. When a controller asked for has no writable place, the container is refused
 * with a message naming the controller and the fix: a limit is never silently dropped.
 * Mount points come from /proc/self/mountinfo, so hybrid layouts (v1 controllers plus a
 * unified hierarchy at /sys/fs/cgroup/unified) work. */
#include "runtime.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* mount point of the v1 hierarchy with controller ctrl, or of cgroup2 when ctrl is NULL */
static char *find_mount(const char *ctrl) {
  char *mi = read_file("/proc/self/mountinfo", NULL);
  if (!mi) return NULL;
  char *res = NULL, *save = NULL;
  for (char *line = strtok_r(mi, "\n", &save); line && !res; line = strtok_r(NULL, "\n", &save)) {
    char *sep = strstr(line, " - ");
    if (!sep) continue;
    char fstype[32], src[256], opts[1024];
    if (sscanf(sep + 3, "%31s %255s %1023s", fstype, src, opts) != 3) continue;
    char mp[1024];
    /* field 5 is the mount point */
    if (sscanf(line, "%*s %*s %*s %*s %1023s", mp) != 1) continue;
    if (ctrl == NULL) {
      if (strcmp(fstype, "cgroup2") == 0) res = xstrdup(mp);
      continue;
    }
    if (strcmp(fstype, "cgroup") != 0) continue;
    char *o = xstrdup(opts), *s2 = NULL;
    for (char *t = strtok_r(o, ",", &s2); t; t = strtok_r(NULL, ",", &s2))
      if (strcmp(t, ctrl) == 0) { res = xstrdup(mp); break; }
    free(o);
  }
  free(mi);
  return res;
}

/* our own cgroup path in the hierarchy with controller ctrl ("" for v2's "0::" line) */
static char *own_path(const char *ctrl) {
  char *c = read_file("/proc/self/cgroup", NULL);
  if (!c) return xstrdup("/");
  char *res = NULL, *save = NULL;
  for (char *line = strtok_r(c, "\n", &save); line && !res; line = strtok_r(NULL, "\n", &save)) {
    char *a = strchr(line, ':');
    if (!a) continue;
    char *b = strchr(a + 1, ':');
    if (!b) continue;
    *b = 0;
    const char *ctrls = a + 1;
    if (!*ctrl) { if (!*ctrls) res = xstrdup(b + 1); continue; }
    char *o = xstrdup(ctrls), *s2 = NULL;
    for (char *t = strtok_r(o, ",", &s2); t; t = strtok_r(NULL, ",", &s2))
      if (strcmp(t, ctrl) == 0) { res = xstrdup(b + 1); break; }
    free(o);
  }
  free(c);
  return res ? res : xstrdup("/");
}

static int write_val(const char *dir, const char *file, const char *val, char **err) {
  char *p = xasprintf("%s/%s", dir, file);
  int r = write_file(p, val, strlen(val));
  if (r < 0) *err = xasprintf("cgroups: write %s to %s: %s", val, p, strerror(errno));
  free(p);
  return r;
}

static void add_path(json_object *arr, const char *p) { json_object_array_add(arr, json_object_new_string(p)); }

static bool v2_has(const char *mount, const char *ctrl) {
  char *p = xasprintf("%s/cgroup.controllers", mount);
  char *c = read_file(p, NULL);
  free(p);
  bool has = false;
  if (c) {
    char *save = NULL;
    for (char *t = strtok_r(c, " \n", &save); t; t = strtok_r(NULL, " \n", &save)) if (strcmp(t, ctrl) == 0) has = true;
    free(c);
  }
  return has;
}

static int setup_v2(const struct spec *s, const char *id, pid_t pid, const char *mount, json_object *paths, char **err) {
  const struct resources_spec *r = &s->resources;
  char *own = own_path("");
  char *parent_of_own = xstrdup(own);
  char *slash = strrchr(parent_of_own, '/');
  if (slash) *slash = 0;
  char *cands[3]; int nc = 0;
  if (s->cgroups_path && s->cgroups_path[0] == '/') cands[nc++] = xasprintf("%s%s", mount, s->cgroups_path);
  cands[nc++] = xasprintf("%s%s/pkit-%s", mount, parent_of_own, id);
  cands[nc++] = xasprintf("%s%s/pkit-%s", mount, strcmp(own, "/") == 0 ? "" : own, id);
  char *dir = NULL;
  int first_errno = 0;
  for (int i = 0; i < nc && !dir; i++) {
    if (mkdir(cands[i], 0755) == 0 || errno == EEXIST) { dir = cands[i]; continue; }
    if (!first_errno) first_errno = errno;
  }
  if (!dir) {
    *err = xasprintf("cgroups: linux.resources asked for, but no writable cgroup v2 place (%s: %s); "
                     "delegate one to this user (systemd-run --user --scope -p Delegate=yes ...) or run without resource limits",
                     cands[0], strerror(first_errno));
    return -1;
  }
  add_path(paths, dir);
  /* enable the controllers in the parent */
  char *parent = xstrdup(dir);
  *strrchr(parent, '/') = 0;
  const char *need[3]; int nn = 0;
  if (r->has_memory_limit || r->has_memory_swap) need[nn++] = "memory";
  if (r->has_cpu_quota || r->has_cpu_shares) need[nn++] = "cpu";
  if (r->has_pids_limit) need[nn++] = "pids";
  for (int i = 0; i < nn; i++) {
    char *v = xasprintf("+%s", need[i]);
    char *f = xasprintf("%s/cgroup.subtree_control", parent);
    if (write_file(f, v, strlen(v)) < 0) {
      *err = xasprintf("cgroups: cannot enable the %s controller in %s: %s; delegate it to this user "
                       "(systemd: Delegate=yes) or run without that limit", need[i], parent, strerror(errno));
      return -1;
    }
    free(v); free(f);
  }
  char v[64];
  if (r->has_memory_limit) {
    if (r->memory_limit < 0) snprintf(v, sizeof v, "max"); else snprintf(v, sizeof v, "%lld", (long long)r->memory_limit);
    if (write_val(dir, "memory.max", v, err) < 0) return -1;
  }
  if (r->has_memory_swap && r->has_memory_limit) {
    /* OCI swap is memory+swap; v2's swap.max is swap alone */
    if (r->memory_swap < 0) snprintf(v, sizeof v, "max");
    else snprintf(v, sizeof v, "%lld", (long long)(r->memory_swap - (r->memory_limit > 0 ? r->memory_limit : 0)));
    if (write_val(dir, "memory.swap.max", v, err) < 0) return -1;
  }
  if (r->has_cpu_quota) {
    uint64_t period = r->has_cpu_period ? r->cpu_period : 100000;
    if (r->cpu_quota < 0) snprintf(v, sizeof v, "max %llu", (unsigned long long)period);
    else snprintf(v, sizeof v, "%lld %llu", (long long)r->cpu_quota, (unsigned long long)period);
    if (write_val(dir, "cpu.max", v, err) < 0) return -1;
  }
  if (r->has_cpu_shares) {
    /* the usual conversion of v1 shares [2, 262144] to v2 weight [1, 10000] */
    uint64_t sh = r->cpu_shares < 2 ? 2 : r->cpu_shares > 262144 ? 262144 : r->cpu_shares;
    snprintf(v, sizeof v, "%llu", (unsigned long long)(1 + ((sh - 2) * 9999) / 262142));
    if (write_val(dir, "cpu.weight", v, err) < 0) return -1;
  }
  if (r->has_pids_limit) {
    if (r->pids_limit <= 0) snprintf(v, sizeof v, "max"); else snprintf(v, sizeof v, "%lld", (long long)r->pids_limit);
    if (write_val(dir, "pids.max", v, err) < 0) return -1;
  }
  snprintf(v, sizeof v, "%d", (int)pid);
  return write_val(dir, "cgroup.procs", v, err);
}

static int setup_v1_ctrl(const char *ctrl, const char *id, pid_t pid, json_object *paths, char **dir_out, char **err) {
  char *mount = find_mount(ctrl);
  if (!mount) {
    *err = xasprintf("cgroups: linux.resources asks for the %s controller, which is mounted neither as cgroup v1 "
                     "nor enabled in cgroup v2 here; run without that limit", ctrl);
    return -1;
  }
  char *own = own_path(ctrl);
  char *dir = xasprintf("%s%s/pkit-%s", mount, strcmp(own, "/") == 0 ? "" : own, id);
  if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
    *err = xasprintf("cgroups: cannot enforce the %s limit: %s is not writable by uid %u (%s); "
                     "give this user a writable %s hierarchy (cgroup v1: chown a subdirectory of %s%s to the user; "
                     "cgroup v2: boot with systemd.unified_cgroup_hierarchy=1 and Delegate=yes) or run without linux.resources.%s",
                     ctrl, dir, (unsigned)geteuid(), strerror(errno), ctrl, mount, own, ctrl);
    return -1;
  }
  add_path(paths, dir);
  char v[32];
  snprintf(v, sizeof v, "%d", (int)pid);
  *dir_out = dir;
  return write_val(dir, "cgroup.procs", v, err);
}

int cgroups_setup(const struct spec *s, const char *id, pid_t pid, char **paths_json, char **err) {
  *paths_json = NULL;
  if (!s->has_resources) return 0;
  const struct resources_spec *r = &s->resources;
  json_object *paths = json_object_new_array();
  int rc = 0;
  char *v2 = find_mount(NULL);
  bool mem = r->has_memory_limit || r->has_memory_swap, cpu = r->has_cpu_quota || r->has_cpu_shares, pids = r->has_pids_limit;
  bool all_v2 = v2 && (!mem || v2_has(v2, "memory")) && (!cpu || v2_has(v2, "cpu")) && (!pids || v2_has(v2, "pids"));
  if (all_v2) {
    rc = setup_v2(s, id, pid, v2, paths, err);
  } else {
    char v[64], *dir;
    if (mem) {
      if ((rc = setup_v1_ctrl("memory", id, pid, paths, &dir, err)) < 0) goto out;
      if (r->has_memory_limit) {
        snprintf(v, sizeof v, "%lld", (long long)r->memory_limit);
        if ((rc = write_val(dir, "memory.limit_in_bytes", v, err)) < 0) goto out;
      }
      if (r->has_memory_swap) {
        snprintf(v, sizeof v, "%lld", (long long)r->memory_swap);
        if ((rc = write_val(dir, "memory.memsw.limit_in_bytes", v, err)) < 0) goto out;
      }
    }
    if (cpu) {
      if ((rc = setup_v1_ctrl("cpu", id, pid, paths, &dir, err)) < 0) goto out;
      if (r->has_cpu_period) {
        snprintf(v, sizeof v, "%llu", (unsigned long long)r->cpu_period);
        if ((rc = write_val(dir, "cpu.cfs_period_us", v, err)) < 0) goto out;
      }
      if (r->has_cpu_quota) {
        snprintf(v, sizeof v, "%lld", (long long)r->cpu_quota);
        if ((rc = write_val(dir, "cpu.cfs_quota_us", v, err)) < 0) goto out;
      }
      if (r->has_cpu_shares) {
        snprintf(v, sizeof v, "%llu", (unsigned long long)r->cpu_shares);
        if ((rc = write_val(dir, "cpu.shares", v, err)) < 0) goto out;
      }
    }
    if (pids) {
      if ((rc = setup_v1_ctrl("pids", id, pid, paths, &dir, err)) < 0) goto out;
      if (r->pids_limit <= 0) snprintf(v, sizeof v, "max"); else snprintf(v, sizeof v, "%lld", (long long)r->pids_limit);
      if ((rc = write_val(dir, "pids.max", v, err)) < 0) goto out;
    }
  }
out:
  *paths_json = xstrdup(json_object_to_json_string_ext(paths, JSON_C_TO_STRING_PLAIN));
  json_object_put(paths);
  return rc;
}

/* Also used by exec: move pid into every cgroup recorded for the container. */
int cgroups_join(const char *paths_json, pid_t pid) {
  if (!paths_json) return 0;
  json_object *a = json_tokener_parse(paths_json);
  if (!a || !json_object_is_type(a, json_type_array)) { if (a) json_object_put(a); return 0; }
  char v[32]; snprintf(v, sizeof v, "%d", (int)pid);
  int rc = 0;
  for (size_t i = 0; i < json_object_array_length(a); i++) {
    char *p = xasprintf("%s/cgroup.procs", json_object_get_string(json_object_array_get_idx(a, i)));
    if (write_file(p, v, strlen(v)) < 0) { warn_errno("join cgroup %s", p); rc = -1; }
    free(p);
  }
  json_object_put(a);
  return rc;
}

void cgroups_destroy(const char *paths_json) {
  if (!paths_json) return;
  json_object *a = json_tokener_parse(paths_json);
  if (!a || !json_object_is_type(a, json_type_array)) { if (a) json_object_put(a); return; }
  for (size_t i = 0; i < json_object_array_length(a); i++) {
    const char *p = json_object_get_string(json_object_array_get_idx(a, i));
    /* the last processes may still be leaving: retry for a moment */
    for (int t = 0; t < 50; t++) {
      if (rmdir(p) == 0 || errno == ENOENT) break;
      if (errno != EBUSY) { warn_errno("remove cgroup %s", p); break; }
      struct timespec ts = { 0, 20 * 1000 * 1000 };
      nanosleep(&ts, NULL);
    }
  }
  json_object_put(a);
}
