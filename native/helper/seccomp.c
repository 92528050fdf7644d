/* seccomp.c: the spec's linux.seccomp as a BPF program, compiled in the runtime's process
 * before the clone and loaded by the container's process with seccomp(2).
 * Semantics as in the runtime spec (and runc/crun): unknown syscall names are skipped
 * (profiles list syscalls of newer kernels); a rule whose action equals the default action
 * is redundant and skipped; args with distinct indexes are ANDed in one rule, several args
 * on the same index make one rule per arg (ORed).
 *
 * Compiling podman's default profile with libseccomp costs ~10 ms, so the program is cached
 * under the state root: <root>/.seccomp-cache/<hash of the key>.bpf. The key is everything
 * that shapes the program: the seccomp section as parsed, the cache format, this executable
 * and libseccomp (file identity and version), libseccomp's API level, the native arch and the
 * kernel. The file holds a header, the whole key (compared byte for byte, so the hash only
 * names the file) and the program with a checksum; anything that does not verify is ignored
 * and the program compiled again (never a container without its filter). The child cannot
 * write the cache (it is past pivot_root by then), hence the work in the parent. */
#include "runtime.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#ifndef SECCOMP_FILTER_FLAG_TSYNC_ESRCH
#define SECCOMP_FILTER_FLAG_TSYNC_ESRCH (1UL << 4)
#endif

/* Bump when the compilation below changes what a spec compiles to. */
#define CACHE_FORMAT 1
#define CACHE_MAGIC "PKSECBPF"
/* More files than this (many profiles or many helper builds): the others are removed. */
#define CACHE_MAX_FILES 64

/* ---- compiling with libseccomp ----------------------------------------------------------- */

static int parse_action(const char *name, bool has_errno, uint32_t errno_ret, uint32_t *out) {
  uint32_t e = has_errno ? errno_ret : EPERM;
  if (strcmp(name, "SCMP_ACT_ALLOW") == 0) *out = SCMP_ACT_ALLOW;
  else if (strcmp(name, "SCMP_ACT_ERRNO") == 0) *out = SCMP_ACT_ERRNO(e);
  else if (strcmp(name, "SCMP_ACT_KILL") == 0 || strcmp(name, "SCMP_ACT_KILL_THREAD") == 0) *out = SCMP_ACT_KILL_THREAD;
  else if (strcmp(name, "SCMP_ACT_KILL_PROCESS") == 0) *out = SCMP_ACT_KILL_PROCESS;
  else if (strcmp(name, "SCMP_ACT_TRAP") == 0) *out = SCMP_ACT_TRAP;
  else if (strcmp(name, "SCMP_ACT_TRACE") == 0) *out = SCMP_ACT_TRACE(e);
  else if (strcmp(name, "SCMP_ACT_LOG") == 0) *out = SCMP_ACT_LOG;
  else return -1;
  return 0;
}

static int parse_op(const char *op, enum scmp_compare *out) {
  static const struct { const char *n; enum scmp_compare c; } t[] = {
    {"SCMP_CMP_NE", SCMP_CMP_NE}, {"SCMP_CMP_LT", SCMP_CMP_LT}, {"SCMP_CMP_LE", SCMP_CMP_LE},
    {"SCMP_CMP_EQ", SCMP_CMP_EQ}, {"SCMP_CMP_GE", SCMP_CMP_GE}, {"SCMP_CMP_GT", SCMP_CMP_GT},
    {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
  };
  for (size_t i = 0; i < sizeof t / sizeof *t; i++) if (strcmp(op, t[i].n) == 0) { *out = t[i].c; return 0; }
  return -1;
}

static uint32_t parse_arch(const char *name) {
  const char *n = name;
  if (strncmp(n, "SCMP_ARCH_", 10) == 0) n += 10;
  char lower[32]; size_t i;
  for (i = 0; n[i] && i < sizeof lower - 1; i++) lower[i] = (char)(n[i] >= 'A' && n[i] <= 'Z' ? n[i] + 32 : n[i]);
  lower[i] = 0;
  if (strcmp(lower, "x86_64") == 0) return SCMP_ARCH_X86_64;
  return seccomp_arch_resolve_name(lower);
}

static void warn_unknown_arches(const struct seccomp_spec *sc) {
  for (size_t i = 0; i < sc->n_architectures; i++)
    if (!parse_arch(sc->architectures[i])) warnx_("seccomp: unknown architecture %s ignored", sc->architectures[i]);
}

static struct scmp_arg_cmp to_cmp(const struct seccomp_arg *a) {
  enum scmp_compare op;
  if (parse_op(a->op, &op) < 0) die("seccomp: unknown operator %s", a->op);
  struct scmp_arg_cmp c = { a->index, op, a->value, a->value_two };
  return c;
}

static scmp_filter_ctx compile(const struct seccomp_spec *sc) {
  uint32_t def;
  if (parse_action(sc->default_action, sc->has_default_errno, sc->default_errno, &def) < 0)
    die("seccomp: unsupported default action %s", sc->default_action);
  scmp_filter_ctx ctx = seccomp_init(def);
  if (!ctx) die("seccomp: cannot initialise the filter");
  /* We set no_new_privs ourselves according to the spec. */
  seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
  for (size_t i = 0; i < sc->n_flags; i++) {
    if (strcmp(sc->flags[i], "SECCOMP_FILTER_FLAG_LOG") == 0) seccomp_attr_set(ctx, SCMP_FLTATR_CTL_LOG, 1);
    else if (strcmp(sc->flags[i], "SECCOMP_FILTER_FLAG_SPEC_ALLOW") == 0) seccomp_attr_set(ctx, SCMP_FLTATR_CTL_SSB, 1);
    else if (strcmp(sc->flags[i], "SECCOMP_FILTER_FLAG_TSYNC") == 0) seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
    else die("seccomp: unsupported flag %s", sc->flags[i]);
  }
  warn_unknown_arches(sc);
  for (size_t i = 0; i < sc->n_architectures; i++) {
    uint32_t arch = parse_arch(sc->architectures[i]);
    if (!arch) continue;
    int r = seccomp_arch_add(ctx, arch);
    if (r < 0 && r != -EEXIST) { errno = -r; die_errno("seccomp: add architecture %s", sc->architectures[i]); }
  }
  for (size_t i = 0; i < sc->n_rules; i++) {
    const struct seccomp_rule *ru = &sc->rules[i];
    uint32_t act;
    if (strcmp(ru->action, "SCMP_ACT_NOTIFY") == 0) die("seccomp: SCMP_ACT_NOTIFY needs a listener, not supported");
    if (parse_action(ru->action, ru->has_errno, ru->errno_ret, &act) < 0) die("seccomp: unsupported action %s", ru->action);
    if (act == def) continue;
    bool same_index = false;
    for (size_t a = 0; a < ru->n_args && !same_index; a++)
      for (size_t b = a + 1; b < ru->n_args; b++)
        if (ru->args[a].index == ru->args[b].index) { same_index = true; break; }
    for (size_t n = 0; n < ru->n_names; n++) {
      int nr = seccomp_syscall_resolve_name(ru->names[n]);
      if (nr == __NR_SCMP_ERROR) continue; /* not a syscall on this architecture/libseccomp */
      int r = 0;
      if (ru->n_args == 0) {
        r = seccomp_rule_add(ctx, act, nr, 0);
      } else if (!same_index) {
        struct scmp_arg_cmp cmps[6];
        if (ru->n_args > 6) die("seccomp: %s: more than 6 args", ru->names[n]);
        for (size_t a = 0; a < ru->n_args; a++) cmps[a] = to_cmp(&ru->args[a]);
        r = seccomp_rule_add_array(ctx, act, nr, (unsigned)ru->n_args, cmps);
      } else {
        for (size_t a = 0; a < ru->n_args && r >= 0; a++) {
          struct scmp_arg_cmp c = to_cmp(&ru->args[a]);
          r = seccomp_rule_add_array(ctx, act, nr, 1, &c);
        }
      }
      if (r < 0) { errno = -r; die_errno("seccomp: add rule for %s", ru->names[n]); }
    }
  }
  return ctx;
}

/* A filter flag this kernel knows: seccomp(2) then fails on the NULL program (EFAULT), not on
 * the flag (EINVAL); libseccomp probes the same way. */
static bool kernel_has_flag(unsigned long flag) {
  return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flag, NULL) < 0 && errno == EFAULT;
}

/* The flags libseccomp's seccomp_load (2.5) passes for ctx's attributes; the attributes are
 * read back because setting one the kernel lacks fails and leaves it off. */
static unsigned load_flags(scmp_filter_ctx ctx) {
  uint32_t v;
  unsigned flags = 0;
  if (seccomp_attr_get(ctx, SCMP_FLTATR_CTL_TSYNC, &v) == 0 && v) {
    flags |= SECCOMP_FILTER_FLAG_TSYNC;
    if (kernel_has_flag(SECCOMP_FILTER_FLAG_TSYNC_ESRCH)) flags |= SECCOMP_FILTER_FLAG_TSYNC_ESRCH;
  }
  if (seccomp_attr_get(ctx, SCMP_FLTATR_CTL_LOG, &v) == 0 && v) flags |= SECCOMP_FILTER_FLAG_LOG;
  if (seccomp_attr_get(ctx, SCMP_FLTATR_CTL_SSB, &v) == 0 && v) flags |= SECCOMP_FILTER_FLAG_SPEC_ALLOW;
  return flags;
}

/* The program libseccomp would load (seccomp_export_bpf writes the same generated code). */
static void export_program(scmp_filter_ctx ctx, struct seccomp_program *out) {
  int fd = memfd_create("pkit-seccomp", MFD_CLOEXEC);
  if (fd < 0) die_errno("seccomp: memfd_create");
  int r = seccomp_export_bpf(ctx, fd);
  if (r < 0) { errno = -r; die_errno("seccomp: export the filter"); }
  off_t size = lseek(fd, 0, SEEK_END);
  if (size < 0) die_errno("seccomp: size of the exported filter");
  size_t n = (size_t)size / sizeof(struct sock_filter);
  if (size == 0 || (size_t)size % sizeof(struct sock_filter) != 0)
    die("seccomp: libseccomp exported %lld bytes, not a BPF program", (long long)size);
  if (n > BPF_MAXINSNS) die("seccomp: the filter has %zu instructions, more than the kernel's %d: use a smaller profile", n, BPF_MAXINSNS);
  out->insns = xmalloc((size_t)size);
  if (pread(fd, out->insns, (size_t)size, 0) != size) die_errno("seccomp: read the exported filter");
  close(fd);
  out->n = n;
  out->flags = load_flags(ctx);
}

/* ---- the cache key --------------------------------------------------------------------------- */

struct buf { unsigned char *p; size_t len, cap; };

static void put(struct buf *b, const void *d, size_t n) {
  if (b->len + n > b->cap) {
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + n) cap *= 2;
    unsigned char *np = realloc(b->p, cap);
    if (!np) die("out of memory");
    b->p = np; b->cap = cap;
  }
  memcpy(b->p + b->len, d, n);
  b->len += n;
}
static void put_u64(struct buf *b, uint64_t v) { put(b, &v, sizeof v); }
static void put_str(struct buf *b, const char *s) {
  if (!s) { put_u64(b, UINT64_MAX); return; } /* absent differs from "" */
  size_t n = strlen(s);
  put_u64(b, n);
  put(b, s, n);
}
static void put_strv(struct buf *b, char **v, size_t n) {
  put_u64(b, n);
  for (size_t i = 0; i < n; i++) put_str(b, v[i]);
}
/* A file's identity: replaced or rebuilt, it is another key. */
static void put_file_id(struct buf *b, const char *path) {
  struct stat st;
  if (!path || stat(path, &st) < 0) { put_u64(b, 0); return; }
  put_u64(b, st.st_dev); put_u64(b, st.st_ino); put_u64(b, (uint64_t)st.st_size);
  put_u64(b, (uint64_t)st.st_mtim.tv_sec); put_u64(b, (uint64_t)st.st_mtim.tv_nsec);
}

static void build_key(const struct seccomp_spec *sc, struct buf *b) {
  put(b, CACHE_MAGIC, 8);
  put_u64(b, CACHE_FORMAT);
  put_file_id(b, "/proc/self/exe");
  Dl_info lib;
  put_file_id(b, dladdr((void *)seccomp_init, &lib) ? lib.dli_fname : NULL);
  const struct scmp_version *v = seccomp_version();
  put_u64(b, v ? v->major : 0); put_u64(b, v ? v->minor : 0); put_u64(b, v ? v->micro : 0);
  put_u64(b, seccomp_api_get());
  put_u64(b, seccomp_arch_native());
  struct utsname u;
  if (uname(&u) == 0) { put_str(b, u.release); put_str(b, u.version); put_str(b, u.machine); }
  else put_str(b, NULL);
  /* the seccomp section, field by field */
  put_str(b, sc->default_action);
  put_u64(b, sc->has_default_errno); put_u64(b, sc->default_errno);
  put_strv(b, sc->architectures, sc->n_architectures);
  put_strv(b, sc->flags, sc->n_flags);
  put_u64(b, sc->n_rules);
  for (size_t i = 0; i < sc->n_rules; i++) {
    const struct seccomp_rule *ru = &sc->rules[i];
    put_strv(b, ru->names, ru->n_names);
    put_str(b, ru->action);
    put_u64(b, ru->has_errno); put_u64(b, ru->errno_ret);
    put_u64(b, ru->n_args);
    for (size_t a = 0; a < ru->n_args; a++) {
      put_u64(b, ru->args[a].index); put_u64(b, ru->args[a].value); put_u64(b, ru->args[a].value_two);
      put_str(b, ru->args[a].op);
    }
  }
}

/* FNV-1a, 64 bits: names the file and checks it; the key itself is compared whole. */
static uint64_t fnv1a(uint64_t h, const void *d, size_t n) {
  const unsigned char *p = d;
  for (size_t i = 0; i < n; i++) { h ^= p[i]; h *= 0x100000001b3ULL; }
  return h;
}
#define FNV_SEED 0xcbf29ce484222325ULL

/* ---- the cache file ------------------------------------------------------------------------ */

struct cache_header {
  char magic[8];       /* CACHE_MAGIC */
  uint32_t format;     /* CACHE_FORMAT */
  uint32_t flags;      /* seccomp(2) filter flags */
  uint32_t key_len;    /* bytes of key after the header */
  uint32_t n_insns;    /* struct sock_filter after the key */
  uint64_t checksum;   /* fnv1a of this header (checksum 0), the key and the program */
};
_Static_assert(sizeof(struct cache_header) == 32, "no padding: the header is hashed as bytes");
/* the only flags load_flags gives */
#define KNOWN_FLAGS (SECCOMP_FILTER_FLAG_TSYNC | SECCOMP_FILTER_FLAG_TSYNC_ESRCH | SECCOMP_FILTER_FLAG_LOG | SECCOMP_FILTER_FLAG_SPEC_ALLOW)

static uint64_t checksum(struct cache_header h, const struct buf *key, const void *insns) {
  h.checksum = 0;
  uint64_t c = fnv1a(FNV_SEED, &h, sizeof h);
  c = fnv1a(c, key->p, key->len);
  return fnv1a(c, insns, (size_t)h.n_insns * sizeof(struct sock_filter));
}

/* The cached program for key, or false (missing, unreadable, not ours, corrupt, other key). */
static bool cache_read(const char *path, const struct buf *key, struct seccomp_program *out) {
  int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return false;
  bool ok = false;
  unsigned char *data = NULL;
  struct stat st;
  size_t fixed = sizeof(struct cache_header) + key->len;
  if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 022)) goto out;
  if ((size_t)st.st_size <= fixed || (size_t)st.st_size > fixed + BPF_MAXINSNS * sizeof(struct sock_filter)) goto out;
  size_t size = (size_t)st.st_size;
  if ((size - fixed) % sizeof(struct sock_filter) != 0) goto out;
  data = xmalloc(size);
  if (read_all(fd, data, size) != (ssize_t)size) goto out;
  struct cache_header h;
  memcpy(&h, data, sizeof h);
  size_t n = (size - fixed) / sizeof(struct sock_filter);
  if (memcmp(h.magic, CACHE_MAGIC, 8) != 0 || h.format != CACHE_FORMAT || h.key_len != key->len || h.n_insns != n ||
      (h.flags & ~KNOWN_FLAGS)) goto out;
  if (memcmp(data + sizeof h, key->p, key->len) != 0) goto out;
  struct sock_filter *insns = xmalloc(n * sizeof *insns);
  memcpy(insns, data + fixed, n * sizeof *insns);
  if (h.checksum != checksum(h, key, insns)) { free(insns); goto out; }
  out->insns = insns;
  out->n = n;
  out->flags = h.flags;
  ok = true;
out:
  free(data);
  close(fd);
  return ok;
}

/* Too many files (many profiles, many builds of this helper): start over. */
static void cache_prune(const char *dir, const char *keep) {
  DIR *d = opendir(dir);
  if (!d) return;
  size_t count = 0;
  for (struct dirent *e; (e = readdir(d));) if (e->d_name[0] != '.') count++;
  if (count >= CACHE_MAX_FILES) {
    rewinddir(d);
    for (struct dirent *e; (e = readdir(d));)
      if (e->d_name[0] != '.' && strcmp(e->d_name, keep) != 0) unlinkat(dirfd(d), e->d_name, 0);
  }
  closedir(d);
}

/* Stored atomically (a temp file renamed over): readers see a whole file or none. Failing to
 * store is not an error, the next run compiles again. */
static void cache_write(const char *dir, const char *name, const struct buf *key, const struct seccomp_program *p) {
  if (mkdir(dir, 0700) < 0 && errno != EEXIST) return;
  cache_prune(dir, name);
  struct cache_header h = { .format = CACHE_FORMAT, .flags = p->flags, .key_len = (uint32_t)key->len,
                            .n_insns = (uint32_t)p->n };
  memcpy(h.magic, CACHE_MAGIC, 8);
  h.checksum = checksum(h, key, p->insns);
  char *path = xasprintf("%s/%s", dir, name);
  char *tmp = xasprintf("%s.tmp-%d", path, (int)getpid());
  int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd >= 0) {
    bool ok = write_all(fd, &h, sizeof h) >= 0 && write_all(fd, key->p, key->len) >= 0 &&
              write_all(fd, p->insns, p->n * sizeof(struct sock_filter)) >= 0;
    ok = close(fd) == 0 && ok;
    if (!ok || rename(tmp, path) < 0) unlink(tmp);
  }
  free(tmp);
  free(path);
}

/* ---- the two halves ------------------------------------------------------------------------ */

void seccomp_prepare(const struct seccomp_spec *sc, const char *root, struct seccomp_program *out) {
  struct buf key = { 0 };
  build_key(sc, &key);
  char name[32];
  snprintf(name, sizeof name, "%016llx.bpf", (unsigned long long)fnv1a(FNV_SEED, key.p, key.len));
  char *dir = root ? xasprintf("%s/%s", root, SECCOMP_CACHE_DIR) : NULL;
  char *path = dir ? xasprintf("%s/%s", dir, name) : NULL;
  if (path && cache_read(path, &key, out)) {
    warn_unknown_arches(sc); /* as the compilation would have */
  } else {
    scmp_filter_ctx ctx = compile(sc);
    export_program(ctx, out);
    seccomp_release(ctx);
    if (dir) cache_write(dir, name, &key, out);
  }
  free(path);
  free(dir);
  free(key.p);
}

void seccomp_install(const struct seccomp_program *p) {
  struct sock_fprog prog = { .len = (unsigned short)p->n, .filter = p->insns };
  long r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, p->flags, &prog);
  /* kernels before 3.17 have only the prctl (and no flags), as in libseccomp */
  if (r < 0 && errno == ENOSYS && p->flags == 0) r = prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0);
  if (r > 0) { errno = ESRCH; r = -1; } /* TSYNC: a thread (pid r) could not be synchronised */
  if (r < 0) die_errno("seccomp: load the filter");
}
