/* userns.h: the `userns-exec` verb (userns.c). */
#ifndef PKIT_USERNS_H
#define PKIT_USERNS_H

/* pkit-runtime userns-exec [--uid-map C:H:N[,C:H:N...]] [--gid-map C:H:N[,...]]
 *                          [--preserve-fds N] [--] CMD [ARG...]
 * argv[0..argc-1] are the arguments after the verb. Runs CMD as uid 0/gid 0 in a new user
 * and mount namespace with the given maps and returns its exit code (128+N for signal N);
 * 125 (after one "pkit-runtime: ..." line) when the helper itself fails, 127/126 when CMD is
 * not found / not executable. */
int cmd_userns_exec(int argc, char **argv);

#endif
