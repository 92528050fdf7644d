/* namespaces.c: namespace kinds, clone flags, joining by path or by pid; lo in a new network
 * namespace. */
#include "runtime.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const struct {
  const char *spec, *proc; int flag;
} kinds[NS__COUNT] = {
  [NS_USER] = {"user", "user", CLONE_NEWUSER},
  [NS_MNT] = {"mount", "mnt", CLONE_NEWNS},
  [NS_PID] = {"pid", "pid", CLONE_NEWPID},
  [NS_UTS] = {"uts", "uts", CLONE_NEWUTS},
  [NS_IPC] = {"ipc", "ipc", CLONE_NEWIPC},
  [NS_NET] = {"network", "net", CLONE_NEWNET},
  [NS_CGROUP] = {"cgroup", "cgroup", CLONE_NEWCGROUP},
#ifdef CLONE_NEWTIME
  [NS_TIME] = {"time", "time", CLONE_NEWTIME},
#else
  [NS_TIME] = {"time", "time", 0x00000080},
#endif
};

const char *ns_proc_name(enum ns_kind k) { return kinds[k].proc; }
int ns_clone_flag(enum ns_kind k) { return kinds[k].flag; }

int ns_from_spec_name(const char *name) {
  for (int i = 0; i < NS__COUNT; i++)
    if (strcmp(name, kinds[i].spec) == 0) return i;
  return -1;
}

/* Order matters: the user namespace first (it grants the capabilities for the others), the
 * mount namespace last of the ones that change path resolution. */
static const enum ns_kind join_order[] = { NS_USER, NS_IPC, NS_UTS, NS_NET, NS_PID, NS_CGROUP, NS_TIME, NS_MNT };

void ns_join_paths(const struct spec *s) {
  int fds[NS__COUNT];
  /* Open every path first: after joining a mount namespace the paths mean something else. */
  for (int k = 0; k < NS__COUNT; k++) {
    fds[k] = -1;
    if (!s->ns[k].wanted || !s->ns[k].path) continue;
    fds[k] = open(s->ns[k].path, O_RDONLY | O_CLOEXEC);
    if (fds[k] < 0) die_errno("open %s namespace %s", kinds[k].spec, s->ns[k].path);
  }
  for (size_t i = 0; i < sizeof join_order / sizeof *join_order; i++) {
    enum ns_kind k = join_order[i];
    if (fds[k] < 0) continue;
    if (setns(fds[k], kinds[k].flag) < 0) die_errno("join %s namespace %s", kinds[k].spec, s->ns[k].path);
    close(fds[k]);
  }
}

bool ns_join_pid(pid_t pid, bool include_user) {
  int fds[NS__COUNT];
  char path[64], self[64];
  bool joined_pid = false;
  for (int k = 0; k < NS__COUNT; k++) {
    fds[k] = -1;
    if (k == NS_USER && !include_user) continue;
    snprintf(path, sizeof path, "/proc/%d/ns/%s", (int)pid, kinds[k].proc);
    snprintf(self, sizeof self, "/proc/self/ns/%s", kinds[k].proc);
    struct stat_ns { char buf[128]; } a, b;
    ssize_t la = readlink(path, a.buf, sizeof a.buf - 1);
    ssize_t lb = readlink(self, b.buf, sizeof b.buf - 1);
    if (la < 0) {
      if (errno == ENOENT) continue; /* kernel without this namespace kind */
      die_errno("read %s", path);
    }
    if (lb >= 0 && la == lb && memcmp(a.buf, b.buf, (size_t)la) == 0) continue; /* same ns */
    fds[k] = open(path, O_RDONLY | O_CLOEXEC);
    if (fds[k] < 0) die_errno("open %s", path);
  }
  for (size_t i = 0; i < sizeof join_order / sizeof *join_order; i++) {
    enum ns_kind k = join_order[i];
    if (fds[k] < 0) continue;
    if (setns(fds[k], kinds[k].flag) < 0) die_errno("join the container's %s namespace", kinds[k].spec);
    close(fds[k]);
    if (k == NS_PID) joined_pid = true;
  }
  return joined_pid;
}

/* A new network namespace has lo down; crun and runc bring it up, and so does podman's none
 * mode (slirp4netns and pasta only configure their own interface). */
void net_loopback_up(void) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) die_errno("bring up lo: socket");
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "lo");
  if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0) die_errno("bring up lo");
  ifr.ifr_flags |= IFF_UP;
  if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0) die_errno("bring up lo");
  close(fd);
}
