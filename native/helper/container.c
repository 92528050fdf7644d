/* container.c: create/run and exec, the parent <-> child protocol.
 *
 * Parent (this single-threaded process)          Child (clone with the new namespaces)
 *   compiles the seccomp filter (seccomp.c)
 *   clone ------------------------------------->   waits for "G" on the sync socket
 *   writes uid/gid maps, joins cgroups, sends "G"
 *                                                  setup: namespaces by path, mounts,
 *                                                  pivot_root, hostname, tty, process
 *                                                  settings, seccomp
 *   reads: "E<message>" -> fail (exit 125)   <---  any failure, then exit
 *          fd (SCM_RIGHTS) -> pty master     <---  terminal without console socket
 *          "R" -> set up                     <---  ready
 *   create: record state, exit 0                   create: blocks opening exec.fifo for
 *   run: record state, wait, forward signals,      writing until `start` opens it for
 *        exit with the container's code            reading; then execve
 *
 * The sync socket is SOCK_SEQPACKET and close-on-exec: one message per send, and EOF once
 * the child has exec'd or died.
 *
 * run --detach: this parent is the monitor (monitor.c), forked off the caller first. It
 * opens the container's stdin and stdout/stderr pipes before the clone (the child puts
 * them on 0-2 at once), runs the setup above as `run`, and then, instead of waiting,
 * monitor_run() logs the output and records the exit. The child clears its parent-death
 * signal, as for create. */
#include "runtime.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static bool valid_id(const char *id) {
  if (!id || !*id || strlen(id) > 1024 || strcmp(id, ".") == 0 || strcmp(id, "..") == 0) return false;
  if (strcmp(id, SECCOMP_CACHE_DIR) == 0) return false; /* the state root's seccomp cache */
  for (const char *p = id; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || strchr("_-.+", *p))) return false;
  return true;
}

static char *now_rfc3339(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm;
  gmtime_r(&ts.tv_sec, &tm);
  char b[64];
  strftime(b, sizeof b, "%Y-%m-%dT%H:%M:%S", &tm);
  return xasprintf("%s.%09ldZ", b, ts.tv_nsec);
}

static void write_pid_file(const char *path, pid_t pid) {
  if (!path) return;
  char buf[32];
  int n = snprintf(buf, sizeof buf, "%d", (int)pid);
  if (write_file_atomic(path, buf, (size_t)n) < 0) die_errno("write pid file %s", path);
}

static void send_msg(int fd, const char *m) {
  if (send(fd, m, strlen(m), MSG_NOSIGNAL) < 0) die_errno("sync with pkit-runtime");
}

/* ---- child ----------------------------------------------------------------------------- */

struct child_args {
  const struct spec *s;
  const struct seccomp_program *seccomp; /* compiled by the parent (has_seccomp) */
  int sync_fd, console_fd, fifo_fd;
  bool detach, new_userns;
  const struct monitor_io *io; /* run --detach: our stdio */
};

_Noreturn static void child_main(const struct child_args *a) {
  const struct spec *s = a->s;
  const struct process_spec *p = &s->process;
  child_error_fd = a->sync_fd;
  die_hook = NULL;
  signals_unblock();
  prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  if (a->io) {
    /* the monitor's stdin and pipes; a terminal replaces them later */
    if (dup2(a->io->stdin_fd, 0) < 0) die_errno("dup2 stdin");
    if (a->io->out_w >= 0 && (dup2(a->io->out_w, 1) < 0 || dup2(a->io->err_w, 2) < 0)) die_errno("dup2 stdout/stderr");
  }

  char go;
  ssize_t r = recv(a->sync_fd, &go, 1, 0);
  if (r != 1 || go != 'G') _exit(EXIT_RUNTIME); /* the parent failed and said so */

  if (a->new_userns) {
    /* become the container's root, whatever our host id maps to */
    if (setresgid(0, 0, 0) < 0) die_errno("setgid 0 in the user namespace");
    if (setresuid(0, 0, 0) < 0) die_errno("setuid 0 in the user namespace");
  }
  ns_join_paths(s);
  if (s->ns[NS_NET].wanted && !s->ns[NS_NET].path) net_loopback_up();

  if (s->ns[NS_MNT].wanted) {
    mounts_setup_rootfs(s);
  } else {
    if (chroot(s->root_path) < 0) die_errno("chroot %s", s->root_path);
    if (chdir("/") < 0) die_errno("chdir /");
  }
  if (s->hostname && *s->hostname) {
    if (!s->ns[NS_UTS].wanted) die("hostname set but no uts namespace asked for");
    if (sethostname(s->hostname, strlen(s->hostname)) < 0) die_errno("sethostname %s", s->hostname);
  }
  if (s->domainname && *s->domainname) {
    if (!s->ns[NS_UTS].wanted) die("domainname set but no uts namespace asked for");
    if (setdomainname(s->domainname, strlen(s->domainname)) < 0) die_errno("setdomainname %s", s->domainname);
  }
  process_make_cwd(p);
  if (s->ns[NS_MNT].wanted) mounts_finalize(s);
  if (p->terminal) tty_setup_child(a->console_fd, a->sync_fd, p);

  process_apply_oom(p);
  process_apply_rlimits(p);
  /* seccomp needs CAP_SYS_ADMIN or no_new_privs: load it while we still have the former
   * when the spec does not ask for the latter, else as late as possible. */
  if (s->has_seccomp && !p->no_new_privileges) seccomp_install(a->seccomp);
  process_apply_user_and_caps(p, s->ns[NS_USER].wanted);
  process_apply_nnp(p);
  process_chdir(p);
  close_extra_fds();
  if (s->has_seccomp && p->no_new_privileges) seccomp_install(a->seccomp);
  char *exe = process_resolve_exe(p);

  if (a->detach || a->io) prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0);
  send_msg(a->sync_fd, "R");
  child_error_fd = -1;
  if (a->detach) {
    char fp[64];
    snprintf(fp, sizeof fp, "/proc/self/fd/%d", a->fifo_fd);
    int w = open(fp, O_WRONLY | O_CLOEXEC);
    if (w < 0) die_errno("open the exec fifo");
    if (write(w, "0", 1) != 1) die_errno("write the exec fifo");
    close(w);
  }
  process_exec(p, exe);
}

/* ---- parent ---------------------------------------------------------------------------- */

static pid_t clone_child(unsigned long flags) {
  /* clone with a NULL stack behaves like fork: the child continues here on a copy. */
  return (pid_t)syscall(SYS_clone, flags | SIGCHLD, NULL, NULL, NULL, 0UL);
}

static int read_sync(int fd, int *master_out, char **err) {
  /* returns 1 on "R", 0 on EOF, -1 on "E" (err set) */
  for (;;) {
    char buf[4300];
    struct iovec iov = { buf, sizeof buf - 1 };
    union { char b[CMSG_SPACE(sizeof(int))]; struct cmsghdr align; } u;
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b, .msg_controllen = sizeof u.b };
    ssize_t n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);
    if (n < 0) { if (errno == EINTR) continue; *err = xasprintf("read from the container process: %s", strerror(errno)); return -1; }
    if (n == 0) return 0;
    buf[n] = 0;
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
      int got; memcpy(&got, CMSG_DATA(c), sizeof got);
      if (master_out && *master_out < 0) *master_out = got; else close(got);
      continue;
    }
    if (buf[0] == 'E') { *err = xstrdup(buf + 1); return -1; }
    if (buf[0] == 'R') return 1;
  }
}

static void kill_and_reap(pid_t pid) {
  kill(pid, SIGKILL);
  while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {}
}

int container_create_or_run(const struct run_opts *o) {
  if (!valid_id(o->id)) die("invalid container id \"%s\": use letters, digits and _-.+", o->id ? o->id : "");
  char bundle[PATH_MAX];
  if (!realpath(o->bundle ? o->bundle : ".", bundle)) die_errno("bundle %s", o->bundle ? o->bundle : ".");
  char *cfg = xasprintf("%s/config.json", bundle);
  struct spec s;
  char *err = NULL;
  if (spec_load(cfg, bundle, &s, &err) < 0) die("%s", err);
  if (!s.has_process) die("config: process is required");
  if (s.ns[NS_TIME].wanted) die("the time namespace is not supported by pkit-runtime");
  if (s.process.terminal && o->detach && !o->console_socket)
    die("process.terminal is true: create needs --console-socket");
  for (int k = HOOK_CREATE_CONTAINER; k < HOOK__COUNT; k++)
    if (s.n_hooks[k]) die("config: hooks.%s is not supported by pkit-runtime (prestart and createRuntime are): run this bundle with crun", hook_kind_name(k));

  if (mkdir_p(o->root, 0700) < 0) die_errno("create state root %s", o->root);
  /* compiled (or taken from the cache) here: the child cannot write the cache */
  struct seccomp_program seccomp = { 0 };
  if (s.has_seccomp) seccomp_prepare(&s.seccomp, o->root, &seccomp);
  char *sdir = state_dir(o->root, o->id);
  if (mkdir(sdir, 0700) < 0) {
    if (errno == EEXIST) die("container %s already exists (state in %s)", o->id, sdir);
    die_errno("create %s", sdir);
  }
  /* from here, failures must remove the state directory */
  int fifo_fd = -1;
  char *fifo = xasprintf("%s/exec.fifo", sdir);
  if (o->detach) {
    if (mkfifo(fifo, 0600) < 0) { state_remove(o->root, o->id); die_errno("mkfifo %s", fifo); }
    fifo_fd = open(fifo, O_PATH | O_CLOEXEC);
    if (fifo_fd < 0) { state_remove(o->root, o->id); die_errno("open %s", fifo); }
  }
  struct monitor_io io;
  if (o->monitor && monitor_prepare(o, sdir, s.process.terminal, &io, &err) < 0) { state_remove(o->root, o->id); die("%s", err); }
  int console_fd = -1;
  if (s.process.terminal && o->console_socket) {
    console_fd = tty_connect_console_socket(o->console_socket);
    if (console_fd < 0) { state_remove(o->root, o->id); die_errno("connect to console socket %s", o->console_socket); }
  }
  int sp[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0) { state_remove(o->root, o->id); die_errno("socketpair"); }

  unsigned long flags = 0;
  for (int k = 0; k < NS__COUNT; k++)
    if (s.ns[k].wanted && !s.ns[k].path) flags |= (unsigned long)ns_clone_flag(k);
  bool new_userns = s.ns[NS_USER].wanted && !s.ns[NS_USER].path;

  /* proxied terminal: raw before the container can write or read anything */
  if (s.process.terminal && !o->console_socket && !o->detach && !o->monitor) tty_raw_begin();
  int sfd = signals_block();
  fflush(NULL);
  pid_t pid = clone_child(flags);
  if (pid < 0) {
    int e = errno;
    state_remove(o->root, o->id);
    errno = e;
    if (e == EPERM || e == ENOSPC) die_errno("create namespaces (clone): are unprivileged user namespaces enabled? (sysctl kernel.unprivileged_userns_clone, user.max_user_namespaces)");
    die_errno("create namespaces (clone)");
  }
  if (pid == 0) {
    close(sp[0]);
    close(sfd);
    struct child_args a = { &s, &seccomp, sp[1], console_fd, fifo_fd, o->detach, new_userns, o->monitor ? &io : NULL };
    child_main(&a);
  }
  close(sp[1]);
  if (console_fd >= 0) close(console_fd);
  if (o->monitor) monitor_after_clone(&io);

  char *cg_paths = NULL;
  if (new_userns && idmap_write(pid, &s, &err) < 0) goto fail;
  if (cgroups_setup(&s, o->id, pid, &cg_paths, &err) < 0) goto fail;
  if (s.n_hooks[HOOK_PRESTART] || s.n_hooks[HOOK_CREATE_RUNTIME]) {
    /* the namespaces exist and are mapped; the init waits for "G" (hooks.c) */
    struct state hs = { .id = (char *)o->id, .bundle = bundle, .pid = pid, .annotations_json = s.annotations_json };
    char *hj = state_to_oci_json(&hs, "creating");
    int hr = hooks_run(&s, HOOK_PRESTART, hj, &err);
    if (hr == 0) hr = hooks_run(&s, HOOK_CREATE_RUNTIME, hj, &err);
    free(hj);
    if (hr < 0) goto fail;
  }
  if (send(sp[0], "G", 1, MSG_NOSIGNAL) != 1) { err = xasprintf("start the container process: %s", strerror(errno)); goto fail; }

  int master = -1;
  int rr = read_sync(sp[0], &master, &err);
  if (rr < 0) goto fail;
  if (rr == 0) {
    /* died before saying ready: an exec lookup failure (message already on stderr) */
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {}
    if (o->monitor) monitor_copy_setup_output(&io, master);
    state_remove(o->root, o->id);
    cgroups_destroy(cg_paths);
    int code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    if (code != 126 && code != 127) { warnx_("the container process exited during setup (code %d)", code); code = EXIT_RUNTIME; }
    return code;
  }

  struct state st = {
    .id = (char *)o->id, .bundle = bundle, .pid = pid, .start_time = proc_start_time(pid),
    .created = now_rfc3339(), .annotations_json = s.annotations_json, .cgroup_paths_json = cg_paths,
    .rootless = geteuid() != 0,
    .monitor_pid = o->monitor ? getpid() : 0, .monitor_start_time = o->monitor ? proc_start_time(getpid()) : 0,
  };
  if (state_write(o->root, &st) < 0) { err = xasprintf("write state in %s: %s", sdir, strerror(errno)); goto fail; }
  if (o->monitor && o->pid_file) {
    /* the init no longer dies with us: fail cleanly rather than leave it unmonitored */
    char pb[32];
    int pn = snprintf(pb, sizeof pb, "%d", (int)pid);
    if (write_file_atomic(o->pid_file, pb, (size_t)pn) < 0) { err = xasprintf("write pid file %s: %s", o->pid_file, strerror(errno)); goto fail; }
  } else {
    write_pid_file(o->pid_file, pid);
  }
  if (o->detach) return 0;
  if (o->monitor) {
    close(sp[0]);
    monitor_run(o, &io, &st, pid, sfd, master);
  }

  int code;
  if (master >= 0) code = tty_proxy_wait(master, sfd, pid);
  else code = signals_wait_forward(sfd, pid, NULL, NULL, 0, NULL);
  state_remove(o->root, o->id);
  cgroups_destroy(cg_paths);
  return code;

fail:
  kill_and_reap(pid);
  state_remove(o->root, o->id);
  cgroups_destroy(cg_paths);
  die("%s", err);
}

/* ---- exec ------------------------------------------------------------------------------ */

int container_exec(const char *root, const char *id, const char *process_json,
                   char **argv, int argc, const char *console_socket, const char *pid_file,
                   bool tty, const char *cwd, char **envs, int nenv, bool detach) {
  struct state st;
  char *err = NULL;
  if (state_read(root, id, &st, &err) < 0) die("%s", err);
  const char *status = state_status(root, &st);
  if (strcmp(status, "running") != 0 && strcmp(status, "created") != 0)
    die("container %s is %s: exec needs a running container", id, status);

  char *cfg = xasprintf("%s/config.json", st.bundle);
  struct spec s;
  if (spec_load(cfg, st.bundle, &s, &err) < 0) die("%s", err);
  struct process_spec p;
  if (process_json) {
    if (process_load(process_json, &p, &err) < 0) die("%s", err);
  } else {
    if (argc == 0) die("exec: no command given (args or --process)");
    p = s.process;
    p.args = xcalloc((size_t)argc + 1, sizeof(char *));
    for (int i = 0; i < argc; i++) p.args[i] = argv[i];
    p.n_args = (size_t)argc;
    p.terminal = tty;
    if (cwd) p.cwd = (char *)cwd;
    if (nenv) {
      char **e = xcalloc(p.n_env + (size_t)nenv + 1, sizeof(char *));
      memcpy(e, p.env, p.n_env * sizeof(char *));
      for (int i = 0; i < nenv; i++) e[p.n_env + (size_t)i] = envs[i];
      p.env = e; p.n_env += (size_t)nenv;
    }
  }
  if (p.terminal && detach && !console_socket) die("exec -t with --detach needs --console-socket");
  struct seccomp_program seccomp = { 0 };
  if (s.has_seccomp) seccomp_prepare(&s.seccomp, root, &seccomp);
  int console_fd = -1;
  if (p.terminal && console_socket) {
    console_fd = tty_connect_console_socket(console_socket);
    if (console_fd < 0) die_errno("connect to console socket %s", console_socket);
  }
  if (p.terminal && !console_socket && !detach) tty_raw_begin();
  int sp[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0) die_errno("socketpair");
  /* The process runs as a grandchild (joining a pid namespace takes a fork); as subreaper
   * we inherit it when the middle process exits, and wait for it ourselves. */
  if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0) die_errno("prctl PR_SET_CHILD_SUBREAPER");
  int sfd = signals_block();
  fflush(NULL);
  pid_t mid = fork();
  if (mid < 0) die_errno("fork");
  if (mid == 0) {
    close(sp[0]); close(sfd);
    child_error_fd = sp[1];
    die_hook = NULL;
    signals_unblock();
    char go;
    if (recv(sp[1], &go, 1, 0) != 1) _exit(EXIT_RUNTIME);
    ns_join_pid(st.pid, true);
    pid_t gc = fork();
    if (gc < 0) die_errno("fork");
    if (gc > 0) {
      char m[32];
      snprintf(m, sizeof m, "P%d", (int)gc);
      send_msg(sp[1], m);
      _exit(0);
    }
    /* wait until the parent has put us in the container's cgroups */
    if (recv(sp[1], &go, 1, 0) != 1 || go != 'G') _exit(EXIT_RUNTIME);
    /* grandchild: inside the container's namespaces (root and cwd are the mount ns's) */
    prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    if (chdir("/") < 0) die_errno("chdir /");
    if (p.terminal) tty_setup_child(console_fd, sp[1], &p);
    process_apply_oom(&p);
    process_apply_rlimits(&p);
    if (s.has_seccomp && !p.no_new_privileges) seccomp_install(&seccomp);
    process_apply_user_and_caps(&p, s.ns[NS_USER].wanted);
    process_apply_nnp(&p);
    process_chdir(&p);
    close_extra_fds();
    if (s.has_seccomp && p.no_new_privileges) seccomp_install(&seccomp);
    char *exe = process_resolve_exe(&p);
    if (detach) prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0);
    send_msg(sp[1], "R");
    child_error_fd = -1;
    process_exec(&p, exe);
  }
  close(sp[1]);
  if (console_fd >= 0) close(console_fd);
  if (send(sp[0], "G", 1, MSG_NOSIGNAL) != 1) die_errno("start the exec process");
  pid_t gc = -1;
  int master = -1;
  for (;;) {
    char buf[4300];
    struct iovec iov = { buf, sizeof buf - 1 };
    union { char b[CMSG_SPACE(sizeof(int))]; struct cmsghdr align; } u;
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b, .msg_controllen = sizeof u.b };
    ssize_t n = recvmsg(sp[0], &msg, MSG_CMSG_CLOEXEC);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    buf[n] = 0;
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    if (c && c->cmsg_type == SCM_RIGHTS) { memcpy(&master, CMSG_DATA(c), sizeof master); continue; }
    if (buf[0] == 'P') {
      gc = atoi(buf + 1);
      while (waitpid(mid, NULL, 0) < 0 && errno == EINTR) {}
      if (cgroups_join(st.cgroup_paths_json, gc) < 0) { kill_and_reap(gc); die("exec: cannot join the container's cgroups"); }
      if (send(sp[0], "G", 1, MSG_NOSIGNAL) != 1) { kill_and_reap(gc); die_errno("start the exec process"); }
      continue;
    }
    if (buf[0] == 'E') {
      if (gc > 0) kill_and_reap(gc);
      while (waitpid(mid, NULL, 0) < 0 && errno == EINTR) {}
      die("%s", buf + 1);
    }
    if (buf[0] == 'R') break;
  }
  if (gc <= 0) {
    int stt = 0;
    while (waitpid(mid, &stt, 0) < 0 && errno == EINTR) {}
    die("exec: the setup process failed (code %d)", WIFEXITED(stt) ? WEXITSTATUS(stt) : 128 + WTERMSIG(stt));
  }
  write_pid_file(pid_file, gc);
  if (detach) return 0;
  if (master >= 0) return tty_proxy_wait(master, sfd, gc);
  return signals_wait_forward(sfd, gc, NULL, NULL, 0, NULL);
}
