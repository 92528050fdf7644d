/* pkit-runtime: a small OCI runtime (the native helper of pkit).
 * Shared declarations. Each .c file owns one concern; see the comment at its top. */
#ifndef PKIT_RUNTIME_H
#define PKIT_RUNTIME_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Exit code for the runtime's own failures (podman's convention; see cli.c). */
#define EXIT_RUNTIME 125

/* ---- util.c ---------------------------------------------------------------------------- */
extern const char *prog_name;
/* Print "pkit-runtime: <msg>" (with ": strerror(errno)" for the _errno variants). */
void warnx_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void warn_errno(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
_Noreturn void die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
_Noreturn void die_errno(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* In the container's init before execve, failures are reported to the parent through the
 * sync socket instead of stderr; util.c routes die() there when this is >= 0. */
extern int child_error_fd;
/* run by die() before exiting (the parent restores its terminal) */
extern void (*die_hook)(void);
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t m);
char *xstrdup(const char *s);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int write_file(const char *path, const char *data, size_t len); /* -1 + errno */
int write_file_atomic(const char *path, const char *data, size_t len);
char *read_file(const char *path, size_t *len); /* NULL + errno */
int mkdir_p(const char *path, mode_t mode);
ssize_t write_all(int fd, const void *buf, size_t len);
ssize_t read_all(int fd, void *buf, size_t len);
unsigned long long proc_start_time(pid_t pid); /* 0 if unknown */

/* ---- spec.c ---------------------------------------------------------------------------- */
struct id_mapping { uint32_t container_id, host_id, size; };
struct rlimit_spec { int resource; uint64_t soft, hard; };
struct mount_spec {
  char *destination, *type, *source;
  char **options; size_t n_options;
};
enum ns_kind { NS_USER, NS_MNT, NS_PID, NS_UTS, NS_IPC, NS_NET, NS_CGROUP, NS_TIME, NS__COUNT };
struct ns_spec { bool wanted; char *path; };
struct seccomp_arg { unsigned index; uint64_t value, value_two; char *op; };
struct seccomp_rule {
  char **names; size_t n_names;
  char *action; bool has_errno; uint32_t errno_ret;
  struct seccomp_arg *args; size_t n_args;
};
struct seccomp_spec {
  char *default_action; bool has_default_errno; uint32_t default_errno;
  char **architectures; size_t n_architectures;
  char **flags; size_t n_flags;
  struct seccomp_rule *rules; size_t n_rules;
};
struct resources_spec {
  bool has_memory_limit; int64_t memory_limit;
  bool has_memory_swap; int64_t memory_swap;
  bool has_cpu_quota; int64_t cpu_quota;
  bool has_cpu_period; uint64_t cpu_period;
  bool has_cpu_shares; uint64_t cpu_shares;
  bool has_pids_limit; int64_t pids_limit;
};
struct sysctl_spec { char *key, *value; };
/* OCI hooks, by kind (hooks.c runs them; only prestart and createRuntime are supported) */
enum hook_kind { HOOK_PRESTART, HOOK_CREATE_RUNTIME, HOOK_CREATE_CONTAINER, HOOK_START_CONTAINER,
                 HOOK_POSTSTART, HOOK_POSTSTOP, HOOK__COUNT };
struct hook_spec {
  char *path;
  char **args; size_t n_args; /* NULL-terminated; none: argv is just path */
  char **env; size_t n_env;   /* NULL-terminated; none: an empty environment */
  int64_t timeout;            /* seconds; 0: none */
};
struct caps_spec { uint64_t bounding, effective, inheritable, permitted, ambient; bool present; };
struct process_spec {
  bool terminal;
  uint32_t console_height, console_width;
  uint32_t uid, gid; uint32_t *additional_gids; size_t n_additional_gids;
  char **args; size_t n_args;
  char **env; size_t n_env;
  char *cwd;
  struct caps_spec caps;
  struct rlimit_spec *rlimits; size_t n_rlimits;
  bool no_new_privileges;
  bool has_oom_score_adj; int oom_score_adj;
  char *apparmor_profile, *selinux_label;
};
struct spec {
  char *oci_version;
  struct process_spec process;
  bool has_process;
  char *root_path; bool root_readonly;
  char *hostname, *domainname;
  struct mount_spec *mounts; size_t n_mounts;
  struct ns_spec ns[NS__COUNT];
  struct id_mapping *uid_mappings; size_t n_uid_mappings;
  struct id_mapping *gid_mappings; size_t n_gid_mappings;
  char **masked_paths; size_t n_masked_paths;
  char **readonly_paths; size_t n_readonly_paths;
  bool has_seccomp; struct seccomp_spec seccomp;
  bool has_resources; struct resources_spec resources;
  char *rootfs_propagation;
  struct sysctl_spec *sysctls; size_t n_sysctls;
  char *cgroups_path;
  char *annotations_json; /* the "annotations" object as JSON text, or NULL */
  struct hook_spec *hooks[HOOK__COUNT]; size_t n_hooks[HOOK__COUNT];
};
/* Parse a whole config.json (bundle-relative root path is made absolute against bundle). */
int spec_load(const char *path, const char *bundle, struct spec *out, char **err);
/* Parse a process.json (for exec) into out. */
int process_load(const char *path, struct process_spec *out, char **err);
int cap_from_name(const char *name); /* -1 if unknown */
int rlimit_from_name(const char *name); /* -1 if unknown */

/* ---- namespaces.c ---------------------------------------------------------------------- */
const char *ns_proc_name(enum ns_kind k); /* "user", "mnt", ... (as in /proc/PID/ns) */
int ns_clone_flag(enum ns_kind k);
int ns_from_spec_name(const char *name); /* "network" -> NS_NET; -1 if unknown */
/* setns() into every namespace the spec gives a path for, user first. */
void ns_join_paths(const struct spec *s);
/* Join the namespaces of a running process (user first); returns true if a pid ns was
 * joined (the caller must fork so the child is inside it). */
bool ns_join_pid(pid_t pid, bool include_user);
/* In a network namespace of our own: set lo up (as crun and runc do). */
void net_loopback_up(void);

/* ---- idmap.c --------------------------------------------------------------------------- */
/* Write uid_map/gid_map of pid (single mapping directly, several through newuidmap). */
int idmap_write(pid_t pid, const struct spec *s, char **err);

/* ---- mounts.c -------------------------------------------------------------------------- */
/* In the child, inside its new mount namespace: everything up to and including pivot_root,
 * masked and read-only paths, sysctls, root read-only. */
void mounts_setup_rootfs(const struct spec *s);
void mounts_finalize(const struct spec *s);

/* ---- process.c ------------------------------------------------------------------------- */
/* Everything between the rootfs being ready and execve; prepare_exec resolves args[0]
 * (exits 127/126 with a message on stderr when that fails). */
void process_apply_rlimits(const struct process_spec *p);
void process_apply_oom(const struct process_spec *p);
void process_apply_user_and_caps(const struct process_spec *p, bool in_userns);
void process_apply_nnp(const struct process_spec *p);
void process_make_cwd(const struct process_spec *p);
void process_chdir(const struct process_spec *p);
char *process_resolve_exe(const struct process_spec *p); /* exits 126/127 itself */
_Noreturn void process_exec(const struct process_spec *p, const char *exe);
void close_extra_fds(void);
extern int preserve_fds; /* --preserve-fds: fds 3..3+N-1 are passed on */
uint64_t caps_all_known(void);

/* ---- seccomp.c ------------------------------------------------------------------------- */
/* The cache of compiled programs under the state root (a name no container id may take). */
#define SECCOMP_CACHE_DIR ".seccomp-cache"
struct sock_filter;
struct seccomp_program { struct sock_filter *insns; size_t n; unsigned flags; };
/* Before the clone: sc's BPF program, from the cache under root (NULL: no cache) or compiled
 * with libseccomp and stored there. Dies (in the caller) on a profile it cannot compile. */
void seccomp_prepare(const struct seccomp_spec *sc, const char *root, struct seccomp_program *out);
/* In the container's process: load it with seccomp(2), with the flags libseccomp would use. */
void seccomp_install(const struct seccomp_program *p);

/* ---- cgroups.c ------------------------------------------------------------------------- */
/* Create the container's cgroup(s), apply resources and move pid in. Fails (die) only if
 * resources were asked for and cannot be enforced. Stores created paths in state. */
int cgroups_setup(const struct spec *s, const char *id, pid_t pid, char **paths_json, char **err);
void cgroups_destroy(const char *paths_json);
int cgroups_join(const char *paths_json, pid_t pid);

/* ---- state.c --------------------------------------------------------------------------- */
struct state {
  char *id, *bundle, *status;
  pid_t pid; unsigned long long start_time;
  char *created, *annotations_json, *cgroup_paths_json;
  bool rootless;
  /* run --detach (monitor.c): the monitor, and what it recorded when the init exited */
  pid_t monitor_pid; unsigned long long monitor_start_time;
  bool exited; int exit_code; char *exited_at;
};
char *state_root_default(void);
char *state_dir(const char *root, const char *id);
int state_write(const char *root, const struct state *st);
char *state_to_json(const struct state *st); /* the state.json text (one line) */
int state_read(const char *root, const char *id, struct state *st, char **err);
/* created | running | stopped, looking at the process and the exec fifo. */
const char *state_status(const char *root, const struct state *st);
char *state_to_oci_json(const struct state *st, const char *status);
void state_remove(const char *root, const char *id);

/* ---- signals.c ------------------------------------------------------------------------- */
int signal_from_name(const char *s); /* "TERM", "SIGTERM", "15" -> 15; -1 if unknown */
/* Block the forwarded signals and return a signalfd for them (plus SIGCHLD). */
int signals_block(void);
void signals_unblock(void);
/* Wait for pid, forwarding signals from sfd; returns its exit code (128+N for signals).
 * extra_fd/extra_cb: optional fd watched in the same loop (terminal proxy). */
int signals_wait_forward(int sfd, pid_t pid, void (*on_fd)(int fd, void *arg), int *fds, size_t nfds, void *arg);

/* ---- tty.c ----------------------------------------------------------------------------- */
/* In the child: create a pty, make its slave the controlling terminal on 0/1/2, and hand the
 * master to the console socket (console_fd >= 0) or to the parent over sync_fd. */
void tty_setup_child(int console_fd, int sync_fd, const struct process_spec *p);
int send_fd(int sock, int fd);
int recv_fd(int sock);
int tty_connect_console_socket(const char *path); /* -1 + errno */
/* In the parent: proxy between our stdio terminal and master until pid exits. */
int tty_proxy_wait(int master, int sfd, pid_t pid);
extern bool tty_no_input;
void tty_raw_begin(void); /* our stdin terminal to raw mode (restored at exit) */

/* ---- hooks.c --------------------------------------------------------------------------- */
const char *hook_kind_name(enum hook_kind k); /* "createRuntime", as in config.json */
/* Runs the spec's hooks of kind k in order, each with state_json on stdin; on the first one
 * that fails (non-zero exit, signal, timeout) sets *err to one line and returns -1. */
int hooks_run(const struct spec *s, enum hook_kind k, const char *state_json, char **err);
int pidfd_of(pid_t pid); /* pidfd_open(2); -1 + errno */
/* The last bytes a process wrote, for a one-line error: its last line that says something. */
#define OUTPUT_TAIL 2048
struct output_tail { char buf[OUTPUT_TAIL]; size_t len; };
void output_tail_add(struct output_tail *t, const char *p, size_t n);
/* Reads what fd has now (non-blocking) into t; false once it is at EOF or failed. */
bool output_tail_drain(struct output_tail *t, int fd);
/* The last non-blank line not matching skip (may be NULL), trimmed; NULL if none. */
char *output_tail_last_line(const struct output_tail *t, bool (*skip)(const char *line));

/* ---- nethook.c ------------------------------------------------------------------------- */
/* pkit-runtime network-hook slirp4netns|pasta [--publish P,IP,HP,CP,N]... -- TOOL [ARG...]:
 * a createRuntime hook that starts TOOL on the container's network namespace and stops it when
 * the container's init exits. argv: the arguments after the verb; returns the exit code. */
int cmd_network_hook(int argc, char **argv);

/* ---- container.c ----------------------------------------------------------------------- */
struct run_opts {
  const char *root, *id, *bundle, *pid_file, *console_socket;
  bool detach; /* create: return after setup, the init waiting on the exec fifo */
  bool no_pivot;
  /* run --detach: we are the monitor (monitor_fork); its options */
  bool monitor;
  const char *log_path, *exit_dir, *monitor_pid_file, *stdin_path;
};
int container_create_or_run(const struct run_opts *o);
int container_exec(const char *root, const char *id, const char *process_json,
                   char **argv, int argc, const char *console_socket, const char *pid_file,
                   bool tty, const char *cwd, char **envs, int nenv, bool detach);

/* ---- monitor.c ------------------------------------------------------------------------- */
#define MONITOR_DEFAULT_LOG "ctr.log" /* in the state dir when run --detach has no --log-path */
/* The fds of a monitored container: the container's ends (the init puts them on 0, 1, 2)
 * and the monitor's. */
struct monitor_io {
  int stdin_fd, out_w, err_w;
  int out_r, err_r, log_fd, state_dir_fd, exit_dir_fd;
};
/* run --detach, in the caller: fork the monitor into a session of its own and return in it
 * (with only fds 0-2 and the preserved ones left). The caller exits 0 once the monitor says
 * the container runs, else with the monitor's exit code. */
void monitor_fork(void);
/* In the monitor, the state dir created: open the log, the exit dir, stdin, the pipes. */
int monitor_prepare(const struct run_opts *o, const char *sdir, bool terminal, struct monitor_io *io, char **err);
/* After clone: drop the container's ends and the preserved fds. */
void monitor_after_clone(struct monitor_io *io);
/* The init died during setup: copy what it wrote (the exec failure) to our stderr. */
void monitor_copy_setup_output(struct monitor_io *io, int master);
/* The container runs and its state is written: detach from the caller, log its output
 * until it exits, record the exit; never returns. master: the pty master, or -1. */
_Noreturn void monitor_run(const struct run_opts *o, struct monitor_io *io, const struct state *st, pid_t pid, int sfd, int master);
/* delete: wait (bounded) until the monitor recorded the exit and is gone. */
void monitor_wait_gone(const struct state *st);

#endif
