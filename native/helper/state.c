/* state.c: container state under <root>/<id>/: state.json (written atomically: temp file,
 * fsync, rename) and exec.fifo (present while the container is "created").
 * The recorded pid is paired with its start time so a reused pid is not mistaken for the
 * container.
 * A detached container (run --detach, monitor.c) also has: monitorPid/monitorStartTime in
 * state.json; once it exited, exitCode/exitedAt there and a file "exit" holding the code
 * (both written by the monitor); and ctr.log, the default log file. */
#include "runtime.h"

#include <errno.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

char *state_root_default(void) {
  if (geteuid() == 0) return xstrdup("/run/pkit-runtime");
  const char *x = getenv("XDG_RUNTIME_DIR");
  if (x && *x) {
    struct stat st;
    if (stat(x, &st) == 0 && st.st_uid == geteuid()) return xasprintf("%s/pkit-runtime", x);
  }
  return xasprintf("/tmp/pkit-runtime-%u", (unsigned)geteuid());
}

char *state_dir(const char *root, const char *id) { return xasprintf("%s/%s", root, id); }

char *state_to_json(const struct state *st) {
  json_object *o = json_object_new_object();
  json_object_object_add(o, "id", json_object_new_string(st->id));
  json_object_object_add(o, "pid", json_object_new_int(st->pid));
  json_object_object_add(o, "startTime", json_object_new_uint64(st->start_time));
  json_object_object_add(o, "bundle", json_object_new_string(st->bundle));
  json_object_object_add(o, "created", json_object_new_string(st->created ? st->created : ""));
  json_object_object_add(o, "rootless", json_object_new_boolean(st->rootless));
  if (st->annotations_json) {
    json_object *a = json_tokener_parse(st->annotations_json);
    if (a) json_object_object_add(o, "annotations", a);
  }
  if (st->cgroup_paths_json) {
    json_object *c = json_tokener_parse(st->cgroup_paths_json);
    if (c) json_object_object_add(o, "cgroupPaths", c);
  }
  if (st->monitor_pid > 0) {
    json_object_object_add(o, "monitorPid", json_object_new_int(st->monitor_pid));
    json_object_object_add(o, "monitorStartTime", json_object_new_uint64(st->monitor_start_time));
  }
  if (st->exited) {
    json_object_object_add(o, "exitCode", json_object_new_int(st->exit_code));
    json_object_object_add(o, "exitedAt", json_object_new_string(st->exited_at ? st->exited_at : ""));
  }
  char *txt = xstrdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
  json_object_put(o);
  return txt;
}

int state_write(const char *root, const struct state *st) {
  char *txt = state_to_json(st);
  char *dir = state_dir(root, st->id);
  char *path = xasprintf("%s/state.json", dir);
  int r = write_file_atomic(path, txt, strlen(txt));
  int e = errno;
  free(txt); free(dir); free(path);
  errno = e;
  return r;
}

static char *dup_field(json_object *o, const char *k) {
  json_object *v;
  if (!json_object_object_get_ex(o, k, &v) || json_object_is_type(v, json_type_null)) return NULL;
  if (json_object_is_type(v, json_type_string)) return xstrdup(json_object_get_string(v));
  return xstrdup(json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
}

int state_read(const char *root, const char *id, struct state *st, char **err) {
  memset(st, 0, sizeof *st);
  char *path = xasprintf("%s/%s/state.json", root, id);
  size_t len;
  char *txt = read_file(path, &len);
  if (!txt) {
    if (errno == ENOENT) *err = xasprintf("container %s does not exist", id);
    else *err = xasprintf("read %s: %s", path, strerror(errno));
    free(path);
    return -1;
  }
  json_object *o = json_tokener_parse(txt);
  free(txt);
  if (!o) { *err = xasprintf("%s: not valid JSON", path); free(path); return -1; }
  free(path);
  json_object *v;
  st->id = xstrdup(id);
  if (json_object_object_get_ex(o, "pid", &v)) st->pid = json_object_get_int(v);
  if (json_object_object_get_ex(o, "startTime", &v)) st->start_time = json_object_get_uint64(v);
  if (json_object_object_get_ex(o, "rootless", &v)) st->rootless = json_object_get_boolean(v);
  if (json_object_object_get_ex(o, "monitorPid", &v)) st->monitor_pid = json_object_get_int(v);
  if (json_object_object_get_ex(o, "monitorStartTime", &v)) st->monitor_start_time = json_object_get_uint64(v);
  if (json_object_object_get_ex(o, "exitCode", &v)) { st->exited = true; st->exit_code = json_object_get_int(v); }
  st->exited_at = dup_field(o, "exitedAt");
  st->bundle = dup_field(o, "bundle");
  st->created = dup_field(o, "created");
  st->annotations_json = dup_field(o, "annotations");
  st->cgroup_paths_json = dup_field(o, "cgroupPaths");
  json_object_put(o);
  return 0;
}

const char *state_status(const char *root, const struct state *st) {
  if (st->pid <= 0 || st->exited) return "stopped";
  if (kill(st->pid, 0) < 0 && errno == ESRCH) return "stopped";
  unsigned long long t = proc_start_time(st->pid);
  if (t == 0 || (st->start_time && t != st->start_time)) return "stopped";
  /* a zombie is stopped too */
  char p[64]; snprintf(p, sizeof p, "/proc/%d/stat", (int)st->pid);
  char *s = read_file(p, NULL);
  if (s) {
    char *c = strrchr(s, ')');
    bool zombie = c && (c[2] == 'Z' || c[2] == 'X');
    free(s);
    if (zombie) return "stopped";
  }
  char *fifo = xasprintf("%s/%s/exec.fifo", root, st->id);
  bool created = access(fifo, F_OK) == 0;
  free(fifo);
  return created ? "created" : "running";
}

char *state_to_oci_json(const struct state *st, const char *status) {
  json_object *o = json_object_new_object();
  json_object_object_add(o, "ociVersion", json_object_new_string("1.0.2"));
  json_object_object_add(o, "id", json_object_new_string(st->id));
  json_object_object_add(o, "status", json_object_new_string(status));
  json_object_object_add(o, "pid", json_object_new_int(strcmp(status, "stopped") == 0 ? 0 : st->pid));
  json_object_object_add(o, "bundle", json_object_new_string(st->bundle ? st->bundle : ""));
  if (st->created && *st->created) json_object_object_add(o, "created", json_object_new_string(st->created));
  if (st->annotations_json) {
    json_object *a = json_tokener_parse(st->annotations_json);
    if (a) json_object_object_add(o, "annotations", a);
  }
  char *out = xstrdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE));
  json_object_put(o);
  return out;
}

void state_remove(const char *root, const char *id) {
  char *dir = state_dir(root, id);
  char *f;
  f = xasprintf("%s/state.json", dir); unlink(f); free(f);
  f = xasprintf("%s/exec.fifo", dir); unlink(f); free(f);
  f = xasprintf("%s/exit", dir); unlink(f); free(f);
  f = xasprintf("%s/" MONITOR_DEFAULT_LOG, dir); unlink(f); free(f);
  if (rmdir(dir) < 0 && errno != ENOENT) warn_errno("remove %s", dir);
  free(dir);
}
