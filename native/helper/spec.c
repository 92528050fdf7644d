/* spec.c: config.json / process.json (OCI runtime spec) parsing into struct spec.
 * Unknown fields are ignored, as the spec asks; wrong types are errors naming the field. */
#include "runtime.h"

#include <errno.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

struct perr { char *msg; };

static int fail(struct perr *pe, const char *field, const char *want) {
  if (!pe->msg) pe->msg = xasprintf("config: %s: expected %s", field, want);
  return -1;
}

static json_object *get(json_object *o, const char *key) {
  json_object *v = NULL;
  if (!o || !json_object_is_type(o, json_type_object)) return NULL;
  if (!json_object_object_get_ex(o, key, &v)) return NULL;
  if (json_object_is_type(v, json_type_null)) return NULL;
  return v;
}

static int get_str(json_object *o, const char *key, char **out, struct perr *pe, const char *ctx) {
  json_object *v = get(o, key);
  if (!v) return 0;
  if (!json_object_is_type(v, json_type_string)) {
    char f[256]; snprintf(f, sizeof f, "%s.%s", ctx, key);
    return fail(pe, f, "a string");
  }
  *out = xstrdup(json_object_get_string(v));
  return 1;
}

static int get_bool(json_object *o, const char *key, bool *out, struct perr *pe, const char *ctx) {
  json_object *v = get(o, key);
  if (!v) return 0;
  if (!json_object_is_type(v, json_type_boolean)) {
    char f[256]; snprintf(f, sizeof f, "%s.%s", ctx, key);
    return fail(pe, f, "a boolean");
  }
  *out = json_object_get_boolean(v);
  return 1;
}

static int get_int(json_object *o, const char *key, int64_t *out, struct perr *pe, const char *ctx) {
  json_object *v = get(o, key);
  if (!v) return 0;
  if (!json_object_is_type(v, json_type_int) && !json_object_is_type(v, json_type_double)) {
    char f[256]; snprintf(f, sizeof f, "%s.%s", ctx, key);
    return fail(pe, f, "a number");
  }
  *out = json_object_get_int64(v);
  return 1;
}

static int get_uint(json_object *o, const char *key, uint64_t *out, struct perr *pe, const char *ctx) {
  json_object *v = get(o, key);
  if (!v) return 0;
  if (!json_object_is_type(v, json_type_int)) {
    char f[256]; snprintf(f, sizeof f, "%s.%s", ctx, key);
    return fail(pe, f, "an unsigned integer");
  }
  /* json-c keeps values above INT64_MAX as uint64 */
  *out = json_object_get_uint64(v);
  return 1;
}

static int get_strv(json_object *o, const char *key, char ***out, size_t *n, struct perr *pe, const char *ctx) {
  json_object *v = get(o, key);
  *out = NULL; *n = 0;
  if (!v) return 0;
  char f[256]; snprintf(f, sizeof f, "%s.%s", ctx, key);
  if (!json_object_is_type(v, json_type_array)) return fail(pe, f, "an array of strings");
  size_t len = json_object_array_length(v);
  char **arr = xcalloc(len + 1, sizeof *arr);
  for (size_t i = 0; i < len; i++) {
    json_object *e = json_object_array_get_idx(v, i);
    if (!e || !json_object_is_type(e, json_type_string)) return fail(pe, f, "an array of strings");
    arr[i] = xstrdup(json_object_get_string(e));
  }
  *out = arr; *n = len;
  return 1;
}

static const char *cap_names[] = {
  "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
  "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
  "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW",
  "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT",
  "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
  "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
  "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE",
  "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ",
  "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
};

int cap_from_name(const char *name) {
  for (size_t i = 0; i < sizeof cap_names / sizeof *cap_names; i++)
    if (strcasecmp(name, cap_names[i]) == 0 || strcasecmp(name, cap_names[i] + 4) == 0) return (int)i;
  return -1;
}

static const struct { const char *name; int res; } rlimit_names[] = {
  {"RLIMIT_AS", RLIMIT_AS}, {"RLIMIT_CORE", RLIMIT_CORE}, {"RLIMIT_CPU", RLIMIT_CPU},
  {"RLIMIT_DATA", RLIMIT_DATA}, {"RLIMIT_FSIZE", RLIMIT_FSIZE}, {"RLIMIT_LOCKS", RLIMIT_LOCKS},
  {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK}, {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
  {"RLIMIT_NICE", RLIMIT_NICE}, {"RLIMIT_NOFILE", RLIMIT_NOFILE}, {"RLIMIT_NPROC", RLIMIT_NPROC},
  {"RLIMIT_RSS", RLIMIT_RSS}, {"RLIMIT_RTPRIO", RLIMIT_RTPRIO}, {"RLIMIT_RTTIME", RLIMIT_RTTIME},
  {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING}, {"RLIMIT_STACK", RLIMIT_STACK},
};

int rlimit_from_name(const char *name) {
  for (size_t i = 0; i < sizeof rlimit_names / sizeof *rlimit_names; i++)
    if (strcmp(name, rlimit_names[i].name) == 0) return rlimit_names[i].res;
  return -1;
}

static int parse_capset(json_object *caps, const char *key, uint64_t *out, struct perr *pe) {
  char **names; size_t n;
  if (get_strv(caps, key, &names, &n, pe, "process.capabilities") < 0) return -1;
  *out = 0;
  for (size_t i = 0; i < n; i++) {
    int c = cap_from_name(names[i]);
    if (c < 0) {
      /* Unknown to this build (newer kernel names): ignore like crun, with a warning. */
      warnx_("config: unknown capability %s ignored", names[i]);
      continue;
    }
    *out |= 1ULL << c;
    free(names[i]);
  }
  free(names);
  return 0;
}

static int parse_process(json_object *p, struct process_spec *out, struct perr *pe) {
  memset(out, 0, sizeof *out);
  if (get_bool(p, "terminal", &out->terminal, pe, "process") < 0) return -1;
  json_object *cs = get(p, "consoleSize");
  if (cs) {
    uint64_t h = 0, w = 0;
    if (get_uint(cs, "height", &h, pe, "process.consoleSize") < 0) return -1;
    if (get_uint(cs, "width", &w, pe, "process.consoleSize") < 0) return -1;
    out->console_height = (uint32_t)h; out->console_width = (uint32_t)w;
  }
  json_object *u = get(p, "user");
  if (u) {
    uint64_t v = 0;
    if (get_uint(u, "uid", &v, pe, "process.user") < 0) return -1;
    out->uid = (uint32_t)v; v = 0;
    if (get_uint(u, "gid", &v, pe, "process.user") < 0) return -1;
    out->gid = (uint32_t)v;
    json_object *ag = get(u, "additionalGids");
    if (ag) {
      if (!json_object_is_type(ag, json_type_array)) return fail(pe, "process.user.additionalGids", "an array of integers");
      size_t n = json_object_array_length(ag);
      out->additional_gids = xcalloc(n, sizeof(uint32_t));
      for (size_t i = 0; i < n; i++) {
        json_object *e = json_object_array_get_idx(ag, i);
        if (!json_object_is_type(e, json_type_int)) return fail(pe, "process.user.additionalGids", "an array of integers");
        out->additional_gids[i] = (uint32_t)json_object_get_int64(e);
      }
      out->n_additional_gids = n;
    }
  }
  if (get_strv(p, "args", &out->args, &out->n_args, pe, "process") < 0) return -1;
  if (get_strv(p, "env", &out->env, &out->n_env, pe, "process") < 0) return -1;
  if (!out->env) out->env = xcalloc(1, sizeof(char *));
  if (get_str(p, "cwd", &out->cwd, pe, "process") < 0) return -1;
  if (!out->cwd) out->cwd = xstrdup("/");
  json_object *caps = get(p, "capabilities");
  if (caps) {
    out->caps.present = true;
    if (parse_capset(caps, "bounding", &out->caps.bounding, pe) < 0 ||
        parse_capset(caps, "effective", &out->caps.effective, pe) < 0 ||
        parse_capset(caps, "inheritable", &out->caps.inheritable, pe) < 0 ||
        parse_capset(caps, "permitted", &out->caps.permitted, pe) < 0 ||
        parse_capset(caps, "ambient", &out->caps.ambient, pe) < 0) return -1;
  }
  json_object *rl = get(p, "rlimits");
  if (rl) {
    if (!json_object_is_type(rl, json_type_array)) return fail(pe, "process.rlimits", "an array");
    size_t n = json_object_array_length(rl);
    out->rlimits = xcalloc(n, sizeof *out->rlimits);
    for (size_t i = 0; i < n; i++) {
      json_object *e = json_object_array_get_idx(rl, i);
      char *type = NULL;
      if (get_str(e, "type", &type, pe, "process.rlimits[]") <= 0) return fail(pe, "process.rlimits[].type", "a string");
      int r = rlimit_from_name(type);
      if (r < 0) { pe->msg = xasprintf("config: process.rlimits: unknown rlimit %s", type); return -1; }
      out->rlimits[i].resource = r;
      if (get_uint(e, "soft", &out->rlimits[i].soft, pe, "process.rlimits[]") < 0) return -1;
      if (get_uint(e, "hard", &out->rlimits[i].hard, pe, "process.rlimits[]") < 0) return -1;
      free(type);
    }
    out->n_rlimits = n;
  }
  if (get_bool(p, "noNewPrivileges", &out->no_new_privileges, pe, "process") < 0) return -1;
  int64_t oom = 0;
  int r = get_int(p, "oomScoreAdj", &oom, pe, "process");
  if (r < 0) return -1;
  if (r > 0) { out->has_oom_score_adj = true; out->oom_score_adj = (int)oom; }
  if (get_str(p, "apparmorProfile", &out->apparmor_profile, pe, "process") < 0) return -1;
  if (get_str(p, "selinuxLabel", &out->selinux_label, pe, "process") < 0) return -1;
  return 0;
}

static int parse_mappings(json_object *l, const char *key, struct id_mapping **out, size_t *n, struct perr *pe) {
  json_object *a = get(l, key);
  *out = NULL; *n = 0;
  if (!a) return 0;
  char f[64]; snprintf(f, sizeof f, "linux.%s", key);
  if (!json_object_is_type(a, json_type_array)) return fail(pe, f, "an array");
  size_t len = json_object_array_length(a);
  *out = xcalloc(len, sizeof **out);
  for (size_t i = 0; i < len; i++) {
    json_object *e = json_object_array_get_idx(a, i);
    uint64_t c = 0, h = 0, s = 0;
    if (get_uint(e, "containerID", &c, pe, f) < 0 || get_uint(e, "hostID", &h, pe, f) < 0 ||
        get_uint(e, "size", &s, pe, f) < 0) return -1;
    (*out)[i] = (struct id_mapping){(uint32_t)c, (uint32_t)h, (uint32_t)s};
  }
  *n = len;
  return 0;
}

static int parse_seccomp(json_object *sc, struct seccomp_spec *out, struct perr *pe) {
  memset(out, 0, sizeof *out);
  if (get_str(sc, "defaultAction", &out->default_action, pe, "linux.seccomp") < 0) return -1;
  if (!out->default_action) return fail(pe, "linux.seccomp.defaultAction", "a string");
  uint64_t v = 0;
  int r = get_uint(sc, "defaultErrnoRet", &v, pe, "linux.seccomp");
  if (r < 0) return -1;
  if (r > 0) { out->has_default_errno = true; out->default_errno = (uint32_t)v; }
  if (get_strv(sc, "architectures", &out->architectures, &out->n_architectures, pe, "linux.seccomp") < 0) return -1;
  if (get_strv(sc, "flags", &out->flags, &out->n_flags, pe, "linux.seccomp") < 0) return -1;
  json_object *sys = get(sc, "syscalls");
  if (sys) {
    if (!json_object_is_type(sys, json_type_array)) return fail(pe, "linux.seccomp.syscalls", "an array");
    size_t n = json_object_array_length(sys);
    out->rules = xcalloc(n, sizeof *out->rules);
    for (size_t i = 0; i < n; i++) {
      json_object *e = json_object_array_get_idx(sys, i);
      struct seccomp_rule *ru = &out->rules[i];
      if (get_strv(e, "names", &ru->names, &ru->n_names, pe, "linux.seccomp.syscalls[]") < 0) return -1;
      if (get_str(e, "action", &ru->action, pe, "linux.seccomp.syscalls[]") <= 0)
        return fail(pe, "linux.seccomp.syscalls[].action", "a string");
      uint64_t er = 0;
      r = get_uint(e, "errnoRet", &er, pe, "linux.seccomp.syscalls[]");
      if (r < 0) return -1;
      if (r > 0) { ru->has_errno = true; ru->errno_ret = (uint32_t)er; }
      json_object *args = get(e, "args");
      if (args) {
        if (!json_object_is_type(args, json_type_array)) return fail(pe, "linux.seccomp.syscalls[].args", "an array");
        size_t na = json_object_array_length(args);
        ru->args = xcalloc(na, sizeof *ru->args);
        for (size_t j = 0; j < na; j++) {
          json_object *a = json_object_array_get_idx(args, j);
          uint64_t idx = 0;
          if (get_uint(a, "index", &idx, pe, "seccomp args") < 0 ||
              get_uint(a, "value", &ru->args[j].value, pe, "seccomp args") < 0 ||
              get_uint(a, "valueTwo", &ru->args[j].value_two, pe, "seccomp args") < 0) return -1;
          if (get_str(a, "op", &ru->args[j].op, pe, "seccomp args") <= 0) return fail(pe, "linux.seccomp.syscalls[].args[].op", "a string");
          ru->args[j].index = (unsigned)idx;
        }
        ru->n_args = na;
      }
      out->n_rules++;
    }
  }
  return 0;
}

static int parse_resources(json_object *res, struct resources_spec *out, struct perr *pe) {
  memset(out, 0, sizeof *out);
  json_object *m = get(res, "memory");
  int r;
  if (m) {
    if ((r = get_int(m, "limit", &out->memory_limit, pe, "linux.resources.memory")) < 0) return -1;
    out->has_memory_limit = r > 0;
    if ((r = get_int(m, "swap", &out->memory_swap, pe, "linux.resources.memory")) < 0) return -1;
    out->has_memory_swap = r > 0;
  }
  json_object *c = get(res, "cpu");
  if (c) {
    if ((r = get_int(c, "quota", &out->cpu_quota, pe, "linux.resources.cpu")) < 0) return -1;
    out->has_cpu_quota = r > 0;
    if ((r = get_uint(c, "period", &out->cpu_period, pe, "linux.resources.cpu")) < 0) return -1;
    out->has_cpu_period = r > 0;
    if ((r = get_uint(c, "shares", &out->cpu_shares, pe, "linux.resources.cpu")) < 0) return -1;
    out->has_cpu_shares = r > 0;
  }
  json_object *p = get(res, "pids");
  if (p) {
    if ((r = get_int(p, "limit", &out->pids_limit, pe, "linux.resources.pids")) < 0) return -1;
    out->has_pids_limit = r > 0;
  }
  return 0;
}

/* hooks.<kind>: [{path, args, env, timeout}] (runtime-spec config.md, POSIX-platform hooks) */
static int parse_hooks(json_object *hooks, struct spec *s, struct perr *pe) {
  if (!json_object_is_type(hooks, json_type_object)) return fail(pe, "hooks", "an object");
  for (int k = 0; k < HOOK__COUNT; k++) {
    const char *name = hook_kind_name((enum hook_kind)k);
    json_object *a = get(hooks, name);
    if (!a) continue;
    char f[64]; snprintf(f, sizeof f, "hooks.%s", name);
    if (!json_object_is_type(a, json_type_array)) return fail(pe, f, "an array");
    size_t n = json_object_array_length(a);
    s->hooks[k] = xcalloc(n, sizeof *s->hooks[k]);
    for (size_t i = 0; i < n; i++) {
      json_object *e = json_object_array_get_idx(a, i);
      struct hook_spec *h = &s->hooks[k][i];
      if (get_str(e, "path", &h->path, pe, f) <= 0) return fail(pe, f, "entries with a \"path\" string");
      if (h->path[0] != '/') { pe->msg = xasprintf("config: %s: path %s must be absolute", f, h->path); return -1; }
      if (get_strv(e, "args", &h->args, &h->n_args, pe, f) < 0) return -1;
      if (get_strv(e, "env", &h->env, &h->n_env, pe, f) < 0) return -1;
      int r = get_int(e, "timeout", &h->timeout, pe, f);
      if (r < 0) return -1;
      if (r > 0 && h->timeout <= 0) { pe->msg = xasprintf("config: %s: timeout must be greater than zero", f); return -1; }
    }
    s->n_hooks[k] = n;
  }
  return 0;
}

static void spec_defaults(struct spec *s) { memset(s, 0, sizeof *s); }

int process_load(const char *path, struct process_spec *out, char **err) {
  struct perr pe = {0};
  json_object *root = json_object_from_file(path);
  if (!root) { *err = xasprintf("cannot parse %s: %s", path, json_util_get_last_err()); return -1; }
  if (parse_process(root, out, &pe) < 0) { *err = pe.msg; json_object_put(root); return -1; }
  json_object_put(root);
  if (out->n_args == 0) { *err = xasprintf("%s: args must not be empty", path); return -1; }
  return 0;
}

int spec_load(const char *path, const char *bundle, struct spec *s, char **err) {
  struct perr pe = {0};
  spec_defaults(s);
  json_object *root = json_object_from_file(path);
  if (!root) {
    *err = xasprintf("cannot read %s: %s", path, json_util_get_last_err());
    /* json-c's message has a trailing newline */
    size_t l = strlen(*err);
    while (l && ((*err)[l - 1] == '\n')) (*err)[--l] = 0;
    return -1;
  }
  if (!json_object_is_type(root, json_type_object)) { *err = xasprintf("%s: not a JSON object", path); goto bad; }
  if (get_str(root, "ociVersion", &s->oci_version, &pe, "") < 0) goto perr;
  json_object *p = get(root, "process");
  if (p) {
    s->has_process = true;
    if (parse_process(p, &s->process, &pe) < 0) goto perr;
  }
  json_object *r = get(root, "root");
  if (r) {
    char *rp = NULL;
    if (get_str(r, "path", &rp, &pe, "root") < 0) goto perr;
    if (get_bool(r, "readonly", &s->root_readonly, &pe, "root") < 0) goto perr;
    if (rp) {
      if (rp[0] == '/') s->root_path = rp;
      else { s->root_path = xasprintf("%s/%s", bundle, rp); free(rp); }
    }
  }
  if (!s->root_path) { *err = xstrdup("config: root.path is required"); goto bad; }
  if (get_str(root, "hostname", &s->hostname, &pe, "") < 0) goto perr;
  if (get_str(root, "domainname", &s->domainname, &pe, "") < 0) goto perr;
  json_object *mounts = get(root, "mounts");
  if (mounts) {
    if (!json_object_is_type(mounts, json_type_array)) { fail(&pe, "mounts", "an array"); goto perr; }
    size_t n = json_object_array_length(mounts);
    s->mounts = xcalloc(n, sizeof *s->mounts);
    for (size_t i = 0; i < n; i++) {
      json_object *m = json_object_array_get_idx(mounts, i);
      struct mount_spec *ms = &s->mounts[i];
      if (get_str(m, "destination", &ms->destination, &pe, "mounts[]") <= 0) { fail(&pe, "mounts[].destination", "a string"); goto perr; }
      if (get_str(m, "type", &ms->type, &pe, "mounts[]") < 0) goto perr;
      if (get_str(m, "source", &ms->source, &pe, "mounts[]") < 0) goto perr;
      if (get_strv(m, "options", &ms->options, &ms->n_options, &pe, "mounts[]") < 0) goto perr;
      if (ms->source && ms->source[0] != '/' && ms->type &&
          (strcmp(ms->type, "bind") == 0 || strcmp(ms->type, "rbind") == 0)) {
        char *abs = xasprintf("%s/%s", bundle, ms->source); free(ms->source); ms->source = abs;
      }
    }
    s->n_mounts = n;
  }
  json_object *hooks = get(root, "hooks");
  if (hooks && parse_hooks(hooks, s, &pe) < 0) goto perr;
  json_object *ann = get(root, "annotations");
  if (ann) s->annotations_json = xstrdup(json_object_to_json_string_ext(ann, JSON_C_TO_STRING_PLAIN));
  json_object *l = get(root, "linux");
  if (l) {
    json_object *nss = get(l, "namespaces");
    if (nss) {
      if (!json_object_is_type(nss, json_type_array)) { fail(&pe, "linux.namespaces", "an array"); goto perr; }
      for (size_t i = 0; i < json_object_array_length(nss); i++) {
        json_object *e = json_object_array_get_idx(nss, i);
        char *type = NULL, *nspath = NULL;
        if (get_str(e, "type", &type, &pe, "linux.namespaces[]") <= 0) { fail(&pe, "linux.namespaces[].type", "a string"); goto perr; }
        if (get_str(e, "path", &nspath, &pe, "linux.namespaces[]") < 0) goto perr;
        int k = ns_from_spec_name(type);
        if (k < 0) { *err = xasprintf("config: linux.namespaces: unknown namespace type %s", type); goto bad; }
        if (s->ns[k].wanted) { *err = xasprintf("config: linux.namespaces: %s given twice", type); goto bad; }
        s->ns[k].wanted = true;
        s->ns[k].path = (nspath && *nspath) ? nspath : NULL;
        free(type);
      }
    }
    if (parse_mappings(l, "uidMappings", &s->uid_mappings, &s->n_uid_mappings, &pe) < 0) goto perr;
    if (parse_mappings(l, "gidMappings", &s->gid_mappings, &s->n_gid_mappings, &pe) < 0) goto perr;
    if (get_strv(l, "maskedPaths", &s->masked_paths, &s->n_masked_paths, &pe, "linux") < 0) goto perr;
    if (get_strv(l, "readonlyPaths", &s->readonly_paths, &s->n_readonly_paths, &pe, "linux") < 0) goto perr;
    if (get_str(l, "rootfsPropagation", &s->rootfs_propagation, &pe, "linux") < 0) goto perr;
    if (get_str(l, "cgroupsPath", &s->cgroups_path, &pe, "linux") < 0) goto perr;
    json_object *sc = get(l, "seccomp");
    if (sc) {
      s->has_seccomp = true;
      if (parse_seccomp(sc, &s->seccomp, &pe) < 0) goto perr;
    }
    json_object *res = get(l, "resources");
    if (res) {
      if (parse_resources(res, &s->resources, &pe) < 0) goto perr;
      const struct resources_spec *rs = &s->resources;
      s->has_resources = rs->has_memory_limit || rs->has_memory_swap || rs->has_cpu_quota ||
                         rs->has_cpu_shares || rs->has_pids_limit ||
                         (rs->has_cpu_period && rs->has_cpu_quota);
    }
    json_object *sy = get(l, "sysctl");
    if (sy) {
      if (!json_object_is_type(sy, json_type_object)) { fail(&pe, "linux.sysctl", "an object"); goto perr; }
      size_t n = (size_t)json_object_object_length(sy);
      s->sysctls = xcalloc(n, sizeof *s->sysctls);
      json_object_object_foreach(sy, k, v) {
        if (!json_object_is_type(v, json_type_string)) { fail(&pe, "linux.sysctl values", "strings"); goto perr; }
        s->sysctls[s->n_sysctls].key = xstrdup(k);
        s->sysctls[s->n_sysctls].value = xstrdup(json_object_get_string(v));
        s->n_sysctls++;
      }
    }
  }
  json_object_put(root);
  if (s->has_process && s->process.n_args == 0) { *err = xstrdup("config: process.args must not be empty"); return -1; }
  return 0;
perr:
  *err = pe.msg ? pe.msg : xstrdup("config: invalid");
bad:
  json_object_put(root);
  return -1;
}
