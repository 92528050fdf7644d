/* seccomp.c: the spec's linux.seccomp compiled with libseccomp and loaded.
 * Semantics as in the runtime spec (and runc/crun): unknown syscall names are skipped
 * (profiles list syscalls of newer kernels); a rule whose action equals the default action
 * is redundant and skipped; args with distinct indexes are ANDed in one rule, several args
 * on the same index make one rule per arg (ORed). */
#include "runtime.h"

#include <errno.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static struct scmp_arg_cmp to_cmp(const struct seccomp_arg *a) {
  enum scmp_compare op;
  if (parse_op(a->op, &op) < 0) die("seccomp: unknown operator %s", a->op);
  struct scmp_arg_cmp c = { a->index, op, a->value, a->value_two };
  return c;
}

void seccomp_apply(const struct seccomp_spec *sc) {
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
  for (size_t i = 0; i < sc->n_architectures; i++) {
    uint32_t arch = parse_arch(sc->architectures[i]);
    if (!arch) { warnx_("seccomp: unknown architecture %s ignored", sc->architectures[i]); continue; }
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
  int r = seccomp_load(ctx);
  if (r < 0) { errno = -r; die_errno("seccomp: load the filter"); }
  seccomp_release(ctx);
}
