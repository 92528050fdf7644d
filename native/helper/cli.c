/* cli.c: command line, crun/runc compatible in shape:
 *
 *   pkit-runtime [--root DIR] [--log F] [--log-format F] [--debug] [--cgroup-manager M]
 *                [--systemd-cgroup] VERB ...
 *   run    [--bundle|-b DIR] [--pid-file F] [--console-socket S] [--detach|-d] [--no-stdin]
 *          [--preserve-fds N] [--no-pivot]
 *          [--log-path F] [--exit-dir DIR] [--monitor-pid-file F] [--stdin F] ID
 *   create [--bundle|-b DIR] [--pid-file F] [--console-socket S] [--preserve-fds N] ID
 *   start ID | state ID | kill [--all|-a] ID [SIGNAL] | delete [--force|-f] ID | list
 *   exec   [--process|-p F] [--tty|-t] [--detach|-d] [--cwd DIR] [--env|-e K=V]
 *          [--pid-file F] [--console-socket S] [--preserve-fds N] ID [CMD [ARG...]]
 *   network-hook slirp4netns|pasta [--publish ...] -- TOOL [ARG...]   (nethook.c: a hook)
 *
 * Difference from crun: our own failures exit with 125 (podman's convention for "the
 * runtime failed"; crun exits 1), so that a caller can tell them from the container's exit
 * code. `run` exits with the container's code, 128+N when it died of signal N; a command
 * that is not found exits 127, one that cannot be executed 126 (crun: 1 for both).
 * Messages are one line, "pkit-runtime: <what failed>: <strerror>", on stderr.
 *
 * run --detach (monitor.c): a monitor process in a session of its own stays with the
 * container, holding its stdout/stderr; `run -d` exits 0 as soon as the container runs and
 * prints nothing (as crun), or fails with the setup's code and message. Its options:
 *   --log-path F          the k8s-file log (appended; default <root>/<id>/ctr.log)
 *   --exit-dir DIR        on exit, DIR/<id> holds the exit code (conmon's --exit-dir)
 *   --monitor-pid-file F  the monitor's pid (conmon's --conmon-pidfile)
 *   --stdin F             the container's stdin (default /dev/null)
 * The exit code (128+N for signal N) also goes to <root>/<id>/exit and, with the exit
 * time, into state.json (exitCode, exitedAt). delete waits for the monitor to finish. */
#include "runtime.h"
#include "userns.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *usage_text =
  "usage: pkit-runtime [--root DIR] VERB [OPTIONS] ID\n"
  "verbs: run, create, start, state, kill, delete, exec, list, userns-exec, --version\n"
  "run --detach [--log-path F] [--exit-dir DIR] [--monitor-pid-file F] [--stdin F]:\n"
  "  a monitor process logs the output (k8s-file format) and records the exit code\n"
  "userns-exec [--uid-map C:H:N,...] [--gid-map C:H:N,...] [--preserve-fds N] -- CMD...:\n"
  "  runs CMD as root of a new user namespace (the store's rootless steps)\n"
  "network-hook slirp4netns|pasta [--publish PROTO,HOST_IP,HOST_PORT,CTR_PORT,COUNT]... -- TOOL [ARG...]:\n"
  "  a createRuntime hook: TOOL networks the container (state on stdin) until its init exits\n";

struct opt_state { int argc; char **argv; int i; };

/* Matches --name, --name=value, -s; for options with a value, stores it. */
static bool take_opt(struct opt_state *o, const char *lng, const char *shrt, bool has_val, const char **val) {
  const char *a = o->argv[o->i];
  size_t l = strlen(lng);
  if (strncmp(a, lng, l) == 0 && (a[l] == 0 || (has_val && a[l] == '='))) {
    if (has_val) {
      if (a[l] == '=') *val = a + l + 1;
      else {
        if (o->i + 1 >= o->argc) die("option %s needs a value", lng);
        *val = o->argv[++o->i];
      }
    }
    return true;
  }
  if (shrt && strcmp(a, shrt) == 0) {
    if (has_val) {
      if (o->i + 1 >= o->argc) die("option %s needs a value", shrt);
      *val = o->argv[++o->i];
    }
    return true;
  }
  return false;
}

static int parse_int_opt(const char *name, const char *v) {
  char *end;
  long n = strtol(v, &end, 10);
  if (*end || n < 0 || n > 1 << 20) die("option %s: not a number: %s", name, v);
  return (int)n;
}

static int cmd_start(const char *root, const char *id) {
  struct state st;
  char *err = NULL;
  if (state_read(root, id, &st, &err) < 0) die("%s", err);
  const char *status = state_status(root, &st);
  if (strcmp(status, "created") != 0) die("container %s is %s, not created: cannot start it", id, status);
  char *fifo = xasprintf("%s/%s/exec.fifo", root, id);
  int fd = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) die_errno("open %s", fifo);
  /* The init blocks opening the fifo for writing until we opened it; it then writes one
   * byte and execs. Wait for the byte while the process lives. */
  for (;;) {
    struct pollfd p = { fd, POLLIN, 0 };
    int n = poll(&p, 1, 100);
    if (n > 0 && (p.revents & POLLIN)) {
      char c;
      ssize_t r = read(fd, &c, 1);
      if (r == 1) break;
    }
    if (n < 0 && errno != EINTR) die_errno("poll %s", fifo);
    if (kill(st.pid, 0) < 0 && errno == ESRCH) die("container %s: its process is gone", id);
  }
  close(fd);
  unlink(fifo);
  return 0;
}

static int cmd_state(const char *root, const char *id) {
  struct state st;
  char *err = NULL;
  if (state_read(root, id, &st, &err) < 0) die("%s", err);
  char *j = state_to_oci_json(&st, state_status(root, &st));
  printf("%s\n", j);
  return 0;
}

static int cmd_kill(const char *root, const char *id, const char *sig_s, bool all) {
  int sig = sig_s ? signal_from_name(sig_s) : SIGTERM;
  if (sig < 0) die("unknown signal %s", sig_s);
  struct state st;
  char *err = NULL;
  if (state_read(root, id, &st, &err) < 0) die("%s", err);
  const char *status = state_status(root, &st);
  if (strcmp(status, "stopped") == 0) die("container %s is not running", id);
  (void)all; /* with a pid namespace, killing init with SIGKILL takes every process */
  if (kill(st.pid, sig) < 0) die_errno("kill container %s (pid %d)", id, (int)st.pid);
  return 0;
}

static int cmd_delete(const char *root, const char *id, bool force) {
  struct state st;
  char *err = NULL;
  if (state_read(root, id, &st, &err) < 0) die("%s", err);
  const char *status = state_status(root, &st);
  if (strcmp(status, "running") == 0 && !force) die("container %s is running: stop it first or use --force", id);
  if (strcmp(status, "stopped") != 0) {
    /* created (never started) or forced: kill and wait until the process is gone (or, when
     * detached, until the monitor recorded its exit) */
    if (kill(st.pid, SIGKILL) < 0 && errno != ESRCH) die_errno("kill container %s", id);
    for (int i = 0; i < 500; i++) {
      if (strcmp(state_status(root, &st), "stopped") == 0) break;
      (void)waitpid(st.pid, NULL, WNOHANG);
      struct timespec ts = { 0, 10 * 1000 * 1000 };
      nanosleep(&ts, NULL);
    }
  }
  monitor_wait_gone(&st); /* it writes into the state dir until it exits */
  cgroups_destroy(st.cgroup_paths_json);
  state_remove(root, id);
  return 0;
}

static int cmd_list(const char *root) {
  printf("%-30s %-10s %-8s %s\n", "NAME", "STATUS", "PID", "BUNDLE");
  DIR *d = opendir(root);
  if (!d) return 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    if (e->d_name[0] == '.') continue;
    struct state st;
    char *err = NULL;
    if (state_read(root, e->d_name, &st, &err) < 0) continue;
    const char *status = state_status(root, &st);
    printf("%-30s %-10s %-8d %s\n", st.id, status, strcmp(status, "stopped") == 0 ? 0 : (int)st.pid, st.bundle ? st.bundle : "");
  }
  closedir(d);
  return 0;
}

int main(int argc, char **argv) {
  struct opt_state o = { argc, argv, 1 };
  const char *root = NULL, *v = NULL;
  for (; o.i < argc && argv[o.i][0] == '-'; o.i++) {
    if (take_opt(&o, "--root", NULL, true, &root)) continue;
    if (take_opt(&o, "--log", NULL, true, &v) || take_opt(&o, "--log-format", NULL, true, &v) ||
        take_opt(&o, "--cgroup-manager", NULL, true, &v) || take_opt(&o, "--debug", NULL, false, NULL) ||
        take_opt(&o, "--systemd-cgroup", NULL, false, NULL) || take_opt(&o, "--rootless", NULL, true, &v)) continue;
    if (strcmp(argv[o.i], "--version") == 0 || strcmp(argv[o.i], "-v") == 0) {
      printf("pkit-runtime version 0.1.0\nspec: 1.0.2\n");
      return 0;
    }
    if (strcmp(argv[o.i], "--help") == 0 || strcmp(argv[o.i], "-h") == 0) { fputs(usage_text, stdout); return 0; }
    die("unknown global option %s", argv[o.i]);
  }
  if (o.i >= argc) { fputs(usage_text, stderr); return EXIT_RUNTIME; }
  const char *verb = argv[o.i++];
  // Not a container verb: a command in a fresh user namespace (docs/storage.md, the user namespace shell).
  if (strcmp(verb, "userns-exec") == 0) return cmd_userns_exec(argc - o.i, argv + o.i);
  // The createRuntime hook that networks a container (nethook.c); not a container verb either.
  if (strcmp(verb, "network-hook") == 0) return cmd_network_hook(argc - o.i, argv + o.i);
  char *root_owned = root ? NULL : state_root_default();
  if (!root) root = root_owned;

  if (strcmp(verb, "run") == 0 || strcmp(verb, "create") == 0) {
    struct run_opts ro = { .root = root, .bundle = "." };
    bool detach = strcmp(verb, "create") == 0, run_detached = false;
    for (; o.i < argc && argv[o.i][0] == '-'; o.i++) {
      if (take_opt(&o, "--bundle", "-b", true, &ro.bundle) || take_opt(&o, "--pid-file", NULL, true, &ro.pid_file) ||
          take_opt(&o, "--console-socket", NULL, true, &ro.console_socket)) continue;
      if (take_opt(&o, "--preserve-fds", NULL, true, &v)) { preserve_fds = parse_int_opt("--preserve-fds", v); continue; }
      if (take_opt(&o, "--no-pivot", NULL, false, NULL)) { ro.no_pivot = true; continue; }
      if (take_opt(&o, "--no-new-keyring", NULL, false, NULL)) continue;
      if (strcmp(verb, "run") == 0 && take_opt(&o, "--detach", "-d", false, NULL)) { run_detached = true; continue; }
      if (strcmp(verb, "run") == 0 && take_opt(&o, "--no-stdin", NULL, false, NULL)) { tty_no_input = true; continue; }
      if (strcmp(verb, "run") == 0 && (take_opt(&o, "--log-path", NULL, true, &ro.log_path) || take_opt(&o, "--exit-dir", NULL, true, &ro.exit_dir) ||
          take_opt(&o, "--monitor-pid-file", NULL, true, &ro.monitor_pid_file) || take_opt(&o, "--stdin", NULL, true, &ro.stdin_path))) continue;
      die("%s: unknown option %s", verb, argv[o.i]);
    }
    if (o.i != argc - 1) die("%s: expected exactly one container id", verb);
    ro.id = argv[o.i];
    if ((ro.log_path || ro.exit_dir || ro.monitor_pid_file || ro.stdin_path) && !run_detached)
      die("run: --log-path, --exit-dir, --monitor-pid-file and --stdin need --detach");
    if (run_detached) {
      /* the monitor runs the container and stays; we return from here only in it */
      ro.monitor = true;
      monitor_fork();
      return container_create_or_run(&ro);
    }
    ro.detach = detach;
    return container_create_or_run(&ro);
  }
  if (strcmp(verb, "exec") == 0) {
    const char *process = NULL, *cwd = NULL, *pid_file = NULL, *console = NULL;
    bool tty = false, detach = false;
    char **envs = xcalloc((size_t)argc, sizeof(char *));
    int nenv = 0;
    for (; o.i < argc && argv[o.i][0] == '-'; o.i++) {
      if (strcmp(argv[o.i], "--") == 0) { o.i++; break; }
      if (take_opt(&o, "--process", "-p", true, &process) || take_opt(&o, "--cwd", NULL, true, &cwd) ||
          take_opt(&o, "--pid-file", NULL, true, &pid_file) || take_opt(&o, "--console-socket", NULL, true, &console)) continue;
      if (take_opt(&o, "--tty", "-t", false, NULL)) { tty = true; continue; }
      if (take_opt(&o, "--detach", "-d", false, NULL)) { detach = true; continue; }
      if (take_opt(&o, "--env", "-e", true, &v)) { envs[nenv++] = (char *)v; continue; }
      if (take_opt(&o, "--preserve-fds", NULL, true, &v)) { preserve_fds = parse_int_opt("--preserve-fds", v); continue; }
      if (take_opt(&o, "--user", "-u", true, &v) || take_opt(&o, "--cap", "-c", true, &v)) die("exec: %s is not supported; use --process", argv[o.i]);
      die("exec: unknown option %s", argv[o.i]);
    }
    if (o.i >= argc) die("exec: expected a container id");
    const char *id = argv[o.i++];
    if (o.i < argc && strcmp(argv[o.i], "--") == 0) o.i++;
    return container_exec(root, id, process, argv + o.i, argc - o.i, console, pid_file, tty, cwd, envs, nenv, detach);
  }
  if (strcmp(verb, "start") == 0 || strcmp(verb, "state") == 0) {
    if (o.i != argc - 1) die("%s: expected exactly one container id", verb);
    return verb[3] == 'r' ? cmd_start(root, argv[o.i]) : cmd_state(root, argv[o.i]);
  }
  if (strcmp(verb, "kill") == 0) {
    bool all = false;
    for (; o.i < argc && argv[o.i][0] == '-' && argv[o.i][1] == '-'; o.i++) {
      if (take_opt(&o, "--all", NULL, false, NULL)) { all = true; continue; }
      die("kill: unknown option %s", argv[o.i]);
    }
    if (o.i < argc && strcmp(argv[o.i], "-a") == 0) { all = true; o.i++; }
    if (o.i >= argc || argc - o.i > 2) die("kill: expected ID [SIGNAL]");
    return cmd_kill(root, argv[o.i], o.i + 1 < argc ? argv[o.i + 1] : NULL, all);
  }
  if (strcmp(verb, "delete") == 0) {
    bool force = false;
    for (; o.i < argc && argv[o.i][0] == '-'; o.i++) {
      if (take_opt(&o, "--force", "-f", false, NULL)) { force = true; continue; }
      die("delete: unknown option %s", argv[o.i]);
    }
    if (o.i != argc - 1) die("delete: expected exactly one container id");
    return cmd_delete(root, argv[o.i], force);
  }
  if (strcmp(verb, "list") == 0) return cmd_list(root);
  die("unknown verb %s (run, create, start, state, kill, delete, exec, list)", verb);
}
