/* mounts.c: the container's root filesystem, in the child inside its mount namespace.
 *
 * Order: make our mounts private, bind the rootfs onto itself, mount the spec's mounts in
 * order (mount points are created and resolved *inside* the rootfs with openat2
 * RESOLVE_IN_ROOT, so a symlink in the image cannot point a mount outside it), create the
 * standard devices and /dev symlinks, pivot_root and detach the old root; then (finalize)
 * masked paths, read-only paths, sysctls and a read-only root.
 *
 * Overlay root (pkit's convention, not in the OCI spec): when the spec's *first* mount has
 * destination "/" and type "overlay" (options such as lowerdir=A:B,upperdir=U,workdir=W and
 * userxattr, which the rootless kernel overlay needs), that overlay is mounted onto root.path
 * (an existing, empty directory) first of all, inside the container's mount namespace (so in
 * its user namespace when there is one), before the rootfs is bound onto itself; the entry is
 * skipped in the loop over the mounts. The lower dirs are layer directories in the overlay
 * form of docs/storage.md (whiteouts as 0:0 char devices, user.overlay.opaque=y). */
#include "runtime.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

enum opt_kind { OPT_FLAG, OPT_CLEAR, OPT_PROP, OPT_BIND, OPT_RBIND, OPT_IGNORE };
static const struct { const char *name; enum opt_kind kind; unsigned long flag; } mount_opts[] = {
  {"ro", OPT_FLAG, MS_RDONLY}, {"rw", OPT_CLEAR, MS_RDONLY},
  {"nosuid", OPT_FLAG, MS_NOSUID}, {"suid", OPT_CLEAR, MS_NOSUID},
  {"nodev", OPT_FLAG, MS_NODEV}, {"dev", OPT_CLEAR, MS_NODEV},
  {"noexec", OPT_FLAG, MS_NOEXEC}, {"exec", OPT_CLEAR, MS_NOEXEC},
  {"sync", OPT_FLAG, MS_SYNCHRONOUS}, {"async", OPT_CLEAR, MS_SYNCHRONOUS},
  {"dirsync", OPT_FLAG, MS_DIRSYNC},
  {"remount", OPT_FLAG, MS_REMOUNT},
  {"mand", OPT_FLAG, MS_MANDLOCK}, {"nomand", OPT_CLEAR, MS_MANDLOCK},
  {"atime", OPT_CLEAR, MS_NOATIME}, {"noatime", OPT_FLAG, MS_NOATIME},
  {"diratime", OPT_CLEAR, MS_NODIRATIME}, {"nodiratime", OPT_FLAG, MS_NODIRATIME},
  {"relatime", OPT_FLAG, MS_RELATIME}, {"norelatime", OPT_CLEAR, MS_RELATIME},
  {"strictatime", OPT_FLAG, MS_STRICTATIME}, {"nostrictatime", OPT_CLEAR, MS_STRICTATIME},
  {"bind", OPT_BIND, MS_BIND}, {"rbind", OPT_RBIND, MS_BIND | MS_REC},
  {"private", OPT_PROP, MS_PRIVATE}, {"rprivate", OPT_PROP, MS_PRIVATE | MS_REC},
  {"shared", OPT_PROP, MS_SHARED}, {"rshared", OPT_PROP, MS_SHARED | MS_REC},
  {"slave", OPT_PROP, MS_SLAVE}, {"rslave", OPT_PROP, MS_SLAVE | MS_REC},
  {"unbindable", OPT_PROP, MS_UNBINDABLE}, {"runbindable", OPT_PROP, MS_UNBINDABLE | MS_REC},
  {"tmpcopyup", OPT_IGNORE, 0}, {"copy-symlink", OPT_IGNORE, 0}, {"notmpcopyup", OPT_IGNORE, 0},
};

struct parsed_opts {
  unsigned long flags, prop;
  bool bind, rec;
  char data[4096];
};

static void parse_options(const struct mount_spec *m, struct parsed_opts *po) {
  memset(po, 0, sizeof *po);
  size_t dl = 0;
  for (size_t i = 0; i < m->n_options; i++) {
    const char *o = m->options[i];
    bool known = false;
    for (size_t j = 0; j < sizeof mount_opts / sizeof *mount_opts; j++) {
      if (strcmp(o, mount_opts[j].name) != 0) continue;
      known = true;
      switch (mount_opts[j].kind) {
      case OPT_FLAG: po->flags |= mount_opts[j].flag; break;
      case OPT_CLEAR: po->flags &= ~mount_opts[j].flag; break;
      case OPT_PROP: po->prop |= mount_opts[j].flag; break;
      case OPT_BIND: po->bind = true; break;
      case OPT_RBIND: po->bind = true; po->rec = true; break;
      case OPT_IGNORE: break;
      }
      break;
    }
    if (known) continue;
    if (strncmp(o, "idmap", 5) == 0 || strncmp(o, "ridmap", 6) == 0)
      die("mount %s: option %s is not supported by pkit-runtime", m->destination, o);
    size_t ol = strlen(o);
    if (dl + ol + 2 >= sizeof po->data) die("mount %s: options too long", m->destination);
    if (dl) po->data[dl++] = ',';
    memcpy(po->data + dl, o, ol);
    dl += ol;
    po->data[dl] = 0;
  }
  if (m->type && strcmp(m->type, "bind") == 0) po->bind = true;
  if (m->type && strcmp(m->type, "rbind") == 0) { po->bind = true; po->rec = true; }
}

/* ---- paths inside the rootfs --------------------------------------------------------- */

static int openat2_in_root(int rootfd, const char *rel, int flags) {
  struct open_how how;
  memset(&how, 0, sizeof how);
  how.flags = (uint64_t)(O_PATH | O_CLOEXEC | flags);
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  return (int)syscall(SYS_openat2, rootfd, rel, &how, sizeof how);
}

/* O_PATH fd of dest (an absolute container path) inside the rootfs, creating missing
 * directories (and the last component as a file when as_file). */
static int mkpath_in_root(int rootfd, const char *dest, bool as_file) {
  while (*dest == '/') dest++;
  if (!*dest) return openat2_in_root(rootfd, ".", O_DIRECTORY);
  int fd = openat2_in_root(rootfd, dest, 0);
  if (fd >= 0 || errno != ENOENT) return fd;
  char *path = xstrdup(dest);
  size_t len = strlen(path);
  int parent = openat2_in_root(rootfd, ".", O_DIRECTORY);
  if (parent < 0) { free(path); return -1; }
  for (size_t i = 0; i <= len; i++) {
    if (path[i] != '/' && path[i] != 0) continue;
    if (i > 0 && path[i - 1] == '/') continue; /* "//" */
    bool last = (i == len);
    char saved = path[i];
    path[i] = 0;
    const char *comp = strrchr(path, '/');
    comp = comp ? comp + 1 : path;
    int cur = openat2_in_root(rootfd, path, 0);
    if (cur < 0 && errno == ENOENT) {
      int r;
      if (last && as_file) {
        r = openat(parent, comp, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (r >= 0) close(r);
      } else {
        r = mkdirat(parent, comp, 0755);
      }
      if (r < 0 && errno != EEXIST) { int e = errno; close(parent); free(path); errno = e; return -1; }
      cur = openat2_in_root(rootfd, path, 0);
    }
    if (cur < 0) { int e = errno; close(parent); free(path); errno = e; return -1; }
    close(parent);
    parent = cur;
    path[i] = saved;
  }
  free(path);
  return parent;
}

static const char *fdpath(int fd, char *buf, size_t n) {
  snprintf(buf, n, "/proc/self/fd/%d", fd);
  return buf;
}

/* Flags the kernel locks on mounts inherited from a more privileged user namespace: a
 * remount must repeat them or it fails with EPERM. */
static unsigned long locked_flags(const char *path) {
  struct statvfs sv;
  if (statvfs(path, &sv) < 0) return 0;
  unsigned long f = 0;
  if (sv.f_flag & ST_NOSUID) f |= MS_NOSUID;
  if (sv.f_flag & ST_NODEV) f |= MS_NODEV;
  if (sv.f_flag & ST_NOEXEC) f |= MS_NOEXEC;
  if (sv.f_flag & ST_NOATIME) f |= MS_NOATIME;
  if (sv.f_flag & ST_NODIRATIME) f |= MS_NODIRATIME;
  if (sv.f_flag & ST_RELATIME) f |= MS_RELATIME;
  return f;
}

static int remount_bind(const char *path, unsigned long flags) {
  unsigned long f = MS_REMOUNT | MS_BIND | (flags & ~(MS_REC | MS_BIND | MS_REMOUNT));
  if (mount(NULL, path, NULL, f | locked_flags(path), NULL) == 0) return 0;
  /* atime flags can be locked in ways statvfs does not show: retry with only the rest */
  return mount(NULL, path, NULL, (f | locked_flags(path)) & ~(MS_NOATIME | MS_NODIRATIME | MS_RELATIME | MS_STRICTATIME), NULL);
}

/* After a recursive bind: the mounts below path get the same read-only remount, so an rbind
 * of /sys or /sys/fs/cgroup asked read-only is read-only all the way down. */
static void remount_submounts(const char *path, unsigned long flags) {
  char *mi = read_file("/proc/self/mountinfo", NULL);
  if (!mi) die_errno("read /proc/self/mountinfo");
  size_t pl = strlen(path);
  char *save = NULL;
  for (char *line = strtok_r(mi, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
    char mp[4096];
    if (sscanf(line, "%*s %*s %*s %*s %4095s", mp) != 1) continue;
    if (strncmp(mp, path, pl) != 0 || mp[pl] != '/') continue;
    if (remount_bind(mp, flags) < 0 && errno != ENOENT && errno != EACCES) die_errno("remount %s", mp);
  }
  free(mi);
}

static bool in_user_namespace(const struct spec *s) { return s->ns[NS_USER].wanted; }

/* Bind host path src onto the O_PATH fd target, recursively, read-only when ro. */
static void bind_host(const char *what, const char *src, int rootfd, const char *dest, unsigned long flags, bool rec) {
  int fd = mkpath_in_root(rootfd, dest, false);
  if (fd < 0) die_errno("create mount point %s", dest);
  char p[64];
  if (mount(src, fdpath(fd, p, sizeof p), NULL, MS_BIND | (rec ? MS_REC : 0), NULL) < 0)
    die_errno("%s: bind %s on %s", what, src, dest);
  close(fd);
  if (flags & ~(MS_BIND | MS_REC)) {
    fd = openat2_in_root(rootfd, dest, 0);
    if (fd < 0 || remount_bind(fdpath(fd, p, sizeof p), flags) < 0) die_errno("%s: remount %s", what, dest);
    if (rec && (flags & MS_RDONLY)) {
      char real[4096];
      ssize_t n = readlink(p, real, sizeof real - 1);
      if (n < 0) die_errno("readlink %s", p);
      real[n] = 0;
      remount_submounts(real, flags);
    }
    close(fd);
  }
}

static void mount_one(const struct spec *s, int rootfd, const struct mount_spec *m) {
  struct parsed_opts po;
  parse_options(m, &po);
  const char *type = m->type && *m->type ? m->type : "none";
  const char *dest = m->destination;
  char p[64];
  if (dest[0] != '/') die("mount %s: destination must be an absolute path", dest);

  if (po.bind) {
    if (!m->source) die("mount %s: bind mount without source", dest);
    struct stat st;
    if (stat(m->source, &st) < 0) die_errno("mount %s: source %s", dest, m->source);
    int fd = mkpath_in_root(rootfd, dest, !S_ISDIR(st.st_mode));
    if (fd < 0) die_errno("create mount point %s", dest);
    if (mount(m->source, fdpath(fd, p, sizeof p), NULL, MS_BIND | (po.rec ? MS_REC : 0), NULL) < 0)
      die_errno("bind mount %s on %s", m->source, dest);
    close(fd);
    if (po.flags & ~MS_REMOUNT) {
      fd = openat2_in_root(rootfd, dest, 0);
      if (fd < 0 || remount_bind(fdpath(fd, p, sizeof p), po.flags) < 0) die_errno("remount bind mount %s", dest);
      close(fd);
    }
  } else {
    int fd = mkpath_in_root(rootfd, dest, false);
    if (fd < 0) die_errno("create mount point %s", dest);
    const char *target = fdpath(fd, p, sizeof p);
    const char *data = po.data[0] ? po.data : NULL;
    int r = mount(m->source ? m->source : type, target, type, po.flags, data);
    int e = errno;
    if (r < 0 && strcmp(type, "devpts") == 0 && e == EINVAL && data && strstr(data, "gid=")) {
      /* rootless: the tty group is not mapped; retry without gid= as crun does */
      char nd[sizeof po.data]; size_t nl = 0;
      nd[0] = 0;
      char *copy = xstrdup(data), *save = NULL;
      for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (strncmp(t, "gid=", 4) == 0) continue;
        nl += (size_t)snprintf(nd + nl, sizeof nd - nl, "%s%s", nl ? "," : "", t);
      }
      free(copy);
      r = mount(m->source ? m->source : type, target, type, po.flags, nd);
      e = errno;
    }
    close(fd);
    if (r < 0 && in_user_namespace(s) && (e == EPERM || e == EACCES || e == EBUSY)) {
      /* Rootless: some filesystems cannot be mounted in a user namespace that does not own
       * the matching namespace. Bind the host's instance instead (as crun does for sysfs). */
      if (strcmp(type, "sysfs") == 0) { bind_host("sysfs", "/sys", rootfd, dest, po.flags | MS_RDONLY, true); r = 0; }
      else if (strcmp(type, "mqueue") == 0) { bind_host("mqueue", "/dev/mqueue", rootfd, dest, po.flags, true); r = 0; }
      else if (strcmp(type, "cgroup") == 0 || strcmp(type, "cgroup2") == 0) {
        bind_host("cgroup", "/sys/fs/cgroup", rootfd, dest, po.flags, true); r = 0;
      }
    } else if (r < 0 && strcmp(type, "cgroup") == 0 && (e == EINVAL || e == ENOENT || e == ENODEV)) {
      /* cgroup v1 needs a controller name: bind the host hierarchy (read-only when asked) */
      bind_host("cgroup", "/sys/fs/cgroup", rootfd, dest, po.flags, true); r = 0;
    }
    if (r < 0) { errno = e; die_errno("mount %s (%s) on %s", m->source ? m->source : type, type, dest); }
  }
  if (po.prop) {
    int fd = openat2_in_root(rootfd, dest, 0);
    if (fd < 0 || mount(NULL, fdpath(fd, p, sizeof p), NULL, po.prop, NULL) < 0)
      die_errno("set propagation of %s", dest);
    close(fd);
  }
}

/* cgroup mounts when no cgroup namespace or v1: crun mounts the hierarchies; we bind the
 * host's tree read-only (the spec's options decide ro). */
static void mount_cgroup(const struct spec *s, int rootfd, const struct mount_spec *m) {
  struct parsed_opts po;
  parse_options(m, &po);
  bool v2 = access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0;
  if (v2 && s->ns[NS_CGROUP].wanted) {
    struct mount_spec m2 = *m;
    m2.type = "cgroup2"; m2.source = "cgroup2";
    mount_one(s, rootfd, &m2);
    return;
  }
  bind_host("cgroup", "/sys/fs/cgroup", rootfd, m->destination, po.flags, true);
}

static const char *std_devices[] = { "null", "zero", "full", "random", "urandom", "tty" };
static const struct { unsigned ma, mi; } std_devnums[] = { {1, 3}, {1, 5}, {1, 7}, {1, 8}, {1, 9}, {5, 0} };

static void create_devices(const struct spec *s, int rootfd, bool has_devpts) {
  char p[64];
  int devfd = mkpath_in_root(rootfd, "/dev", false);
  if (devfd < 0) die_errno("create /dev");
  /* an O_PATH fd cannot be used for mknodat/symlinkat directly on all kernels: reopen */
  int dfd = openat(devfd, ".", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  if (dfd < 0) die_errno("open /dev");
  for (size_t i = 0; i < sizeof std_devices / sizeof *std_devices; i++) {
    const char *name = std_devices[i];
    char dest[32]; snprintf(dest, sizeof dest, "/dev/%s", name);
    if (!in_user_namespace(s)) {
      if (mknodat(dfd, name, S_IFCHR | 0666, makedev(std_devnums[i].ma, std_devnums[i].mi)) == 0) {
        if (fchmodat(dfd, name, 0666, 0) < 0) die_errno("chmod /dev/%s", name);
        continue;
      }
      if (errno != EEXIST && errno != EPERM) die_errno("mknod %s", dest);
      if (errno == EEXIST) continue;
    }
    char host[32]; snprintf(host, sizeof host, "/dev/%s", name);
    if (access(host, F_OK) < 0) continue;
    int fd = mkpath_in_root(rootfd, dest, true);
    if (fd < 0) die_errno("create %s", dest);
    if (mount(host, fdpath(fd, p, sizeof p), NULL, MS_BIND, NULL) < 0) die_errno("bind %s", host);
    close(fd);
  }
  static const struct { const char *name, *target; } links[] = {
    {"fd", "/proc/self/fd"}, {"stdin", "/proc/self/fd/0"}, {"stdout", "/proc/self/fd/1"},
    {"stderr", "/proc/self/fd/2"}, {"core", "/proc/kcore"},
  };
  for (size_t i = 0; i < sizeof links / sizeof *links; i++) {
    if (symlinkat(links[i].target, dfd, links[i].name) < 0 && errno != EEXIST)
      die_errno("symlink /dev/%s", links[i].name);
  }
  if (has_devpts) {
    (void)unlinkat(dfd, "ptmx", 0);
    if (symlinkat("pts/ptmx", dfd, "ptmx") < 0) die_errno("symlink /dev/ptmx");
  }
  close(dfd);
  close(devfd);
}

static unsigned long propagation_flag(const char *name) {
  if (!name || !*name) return 0;
  static const struct { const char *n; unsigned long f; } t[] = {
    {"private", MS_PRIVATE}, {"rprivate", MS_PRIVATE | MS_REC}, {"shared", MS_SHARED},
    {"rshared", MS_SHARED | MS_REC}, {"slave", MS_SLAVE}, {"rslave", MS_SLAVE | MS_REC},
    {"unbindable", MS_UNBINDABLE}, {"runbindable", MS_UNBINDABLE | MS_REC},
  };
  for (size_t i = 0; i < sizeof t / sizeof *t; i++) if (strcmp(name, t[i].n) == 0) return t[i].f;
  die("linux.rootfsPropagation: unknown value %s", name);
}

static bool is_overlay_root(const struct mount_spec *m) {
  return m->destination && strcmp(m->destination, "/") == 0 && m->type && strcmp(m->type, "overlay") == 0;
}

/* The overlay root (see the top of this file): onto root.path, which must be an empty dir. */
static void mount_overlay_root(const struct spec *s, const struct mount_spec *m) {
  struct parsed_opts po;
  parse_options(m, &po);
  if (po.bind) die("mount /: an overlay root cannot be a bind mount");
  if (!strstr(po.data, "lowerdir=")) die("mount / (overlay): no lowerdir= option");
  int dfd = open(s->root_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) die_errno("overlay root: open %s", s->root_path);
  DIR *d = fdopendir(dfd);
  if (!d) die_errno("overlay root: read %s", s->root_path);
  for (struct dirent *e; (e = readdir(d));)
    if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) die("overlay root: %s is not empty", s->root_path);
  closedir(d);
  if (mount(m->source && *m->source ? m->source : "overlay", s->root_path, "overlay", po.flags & ~MS_REMOUNT, po.data) < 0)
    die_errno("mount overlay root on %s (%s)", s->root_path, po.data);
}

void mounts_setup_rootfs(const struct spec *s) {
  unsigned long prop = propagation_flag(s->rootfs_propagation);
  /* Nothing we do may propagate back to the host. */
  unsigned long base = (prop & (MS_SLAVE)) ? (MS_SLAVE | MS_REC) : (MS_PRIVATE | MS_REC);
  if (mount(NULL, "/", NULL, base, NULL) < 0) die_errno("make / %s", base & MS_SLAVE ? "rslave" : "rprivate");
  size_t first = 0;
  if (s->n_mounts > 0 && is_overlay_root(&s->mounts[0])) { mount_overlay_root(s, &s->mounts[0]); first = 1; }
  if (mount(s->root_path, s->root_path, NULL, MS_BIND | MS_REC, NULL) < 0) die_errno("bind mount rootfs %s", s->root_path);
  int rootfd = open(s->root_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0) die_errno("open rootfs %s", s->root_path);

  bool has_devpts = false;
  for (size_t i = first; i < s->n_mounts; i++) {
    const struct mount_spec *m = &s->mounts[i];
    const char *type = m->type ? m->type : "";
    if (strcmp(type, "cgroup") == 0) mount_cgroup(s, rootfd, m);
    else mount_one(s, rootfd, m);
    if (strcmp(type, "devpts") == 0 && strcmp(m->destination, "/dev/pts") == 0) has_devpts = true;
  }
  create_devices(s, rootfd, has_devpts);

  /* pivot_root(".", "."): the old root ends up stacked on the new one; detach it. */
  int oldroot = open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  if (oldroot < 0) die_errno("open /");
  int newroot = open(s->root_path, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  if (newroot < 0) die_errno("open rootfs %s", s->root_path);
  if (fchdir(newroot) < 0) die_errno("chdir to rootfs");
  if (syscall(SYS_pivot_root, ".", ".") < 0) die_errno("pivot_root into %s", s->root_path);
  if (fchdir(oldroot) < 0) die_errno("chdir to old root");
  if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0) die_errno("make old root rslave");
  if (umount2(".", MNT_DETACH) < 0) die_errno("detach old root");
  if (chdir("/") < 0) die_errno("chdir /");
  close(oldroot); close(newroot); close(rootfd);
  if (prop && mount(NULL, "/", NULL, prop, NULL) < 0) die_errno("set rootfs propagation %s", s->rootfs_propagation);
}

void mounts_finalize(const struct spec *s) {
  for (size_t i = 0; i < s->n_sysctls; i++) {
    char path[512];
    int n = snprintf(path, sizeof path, "/proc/sys/");
    for (const char *k = s->sysctls[i].key; *k && n < (int)sizeof path - 1; k++) path[n++] = *k == '.' ? '/' : *k;
    path[n] = 0;
    if (write_file(path, s->sysctls[i].value, strlen(s->sysctls[i].value)) < 0)
      die_errno("sysctl %s=%s", s->sysctls[i].key, s->sysctls[i].value);
  }
  for (size_t i = 0; i < s->n_masked_paths; i++) {
    const char *path = s->masked_paths[i];
    struct stat st;
    if (stat(path, &st) < 0) {
      if (errno == ENOENT || errno == ENOTDIR) continue;
      die_errno("masked path %s", path);
    }
    int r;
    if (S_ISDIR(st.st_mode)) r = mount("tmpfs", path, "tmpfs", MS_RDONLY, "size=0k");
    else {
      r = mount("/dev/null", path, NULL, MS_BIND, NULL);
      if (r == 0) r = remount_bind(path, MS_RDONLY);
    }
    if (r < 0) die_errno("mask %s", path);
  }
  for (size_t i = 0; i < s->n_readonly_paths; i++) {
    const char *path = s->readonly_paths[i];
    if (mount(path, path, NULL, MS_BIND | MS_REC, NULL) < 0) {
      if (errno == ENOENT) continue;
      die_errno("bind read-only path %s", path);
    }
    if (remount_bind(path, MS_RDONLY | MS_REC) < 0) die_errno("make %s read-only", path);
  }
  if (s->root_readonly && remount_bind("/", MS_RDONLY) < 0) die_errno("make the root filesystem read-only");
}
