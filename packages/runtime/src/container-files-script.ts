// The container side of file access from outside (prun cp, pbuild copy/add): a POSIX sh
// script run as root of the container's user namespace, with the container's root filesystem
// at $root (/proc/PID/root of a running container, or the overlay mounted by the script itself
// for a stopped one). GNU tar does the copying, streamed on stdin/stdout.
//
// Why the path walk: a running container's root is reached through /proc/PID/root, while
// this process's own root is the host's, so a path given whole to the kernel would resolve an
// absolute symlink in the container ("/d/link -> /etc") against the host. `walk` resolves a
// container path one component at a time, reading each symlink and following it inside $root,
// and enters each directory relative to the one before, checking afterwards that the new
// working directory's ".." is the directory it came from: a directory swapped for a symlink
// meanwhile (the container keeps running) is caught there instead of leading to host files.
// tar then works relative to that pinned directory; on extraction GNU tar replaces a symlink
// that stands where an entry goes. Not covered: a running container swapping a directory for a
// symlink below the pinned one while tar extracts into it (tar is not chrooted; docs/cli.md).
//
// Arguments: ROOT OVERLAY_OPTIONS NBINDS [DEST SOURCE FLAGS]... OP OP_ARGS...
//   OVERLAY_OPTIONS  "" for a running container; else mounted as an overlay on ROOT first
//   DEST SOURCE FLAGS  bind mounts of the spec (FLAGS: "r" recursive, "o" read-only), mounted
//                      over ROOT+DEST (volumes, /etc/hosts, ...); a missing mount point is
//                      made when its parent exists, as the runtime does at start
//   stat PATH                        prints "KIND\0RESOLVED\0": dir, file or missing
//   mkdir PATH UID GID               makes PATH and its missing parents (mode 0755, owned by
//                                    UID:GID, "" for root), then prints as stat does
//   get PATH CONTENTS PLAIN UID GID [MODE]
//                                    a tar of PATH (CONTENTS=1: of what is in it; PLAIN=1:
//                                    its names without "./", as podman writes to stdout) on
//                                    stdout; UID/GID "" keep the owners, else set them; MODE
//                                    (tar --mode) sets the modes
//   put DIR TRANSFORM SAMEOWNER      extracts the tar on stdin into DIR (a resolved path)
// Exit codes: 0 done, 1-2 tar's, 3 not found, 4 not a directory, 5 symlink loop,
// 6 the path changed while being walked, 7 mount failure. Messages: "pkit-cp: ..." on stderr.
export const CONTAINER_FILES_SCRIPT = `set -u
unset CDPATH
export LC_ALL=C
fail() { code=$1; shift; printf 'pkit-cp: %s\\n' "$*" >&2; exit "$code"; }
# (dash's cd -P warns when getcwd fails, as it does under /proc/PID/root: hence 2>/dev/null)
enter_root() { cd -P -- "$root" 2>/dev/null || fail 7 "cannot enter the container's root filesystem"; }
# enter NAME: into a directory of the current one, never through a symlink swapped in meanwhile
enter() {
  here=$(stat -c %d:%i .) || fail 6 "cannot read the current directory"
  cd -P "./$1" 2>/dev/null || return 1
  [ "$(stat -c %d:%i ..)" = "$here" ] || fail 6 "$1 changed while being resolved"
}
# reenter: from the root again down to $R (after "..")
reenter() {
  enter_root
  rp=\${R#/}
  while [ -n "$rp" ]; do
    case $rp in */*) rc=\${rp%%/*}; rp=\${rp#*/} ;; *) rc=$rp; rp= ;; esac
    enter "$rc" || fail 6 "$rc changed while being resolved"
  done
}
# more REST: whether REST still has a component other than "" and "."
more() {
  mp=$1
  while [ -n "$mp" ]; do
    case $mp in */*) mc=\${mp%%/*}; mp=\${mp#*/} ;; *) mc=$mp; mp= ;; esac
    case $mc in ''|.) ;; *) return 0 ;; esac
  done
  return 1
}
# walk PATH: resolves PATH inside $root; ends in the directory holding the last component,
# with R = that directory's path ("" for /) and LAST = the last name ("" for / itself).
# On failure: returns 1 with WERR (exit code) and WMSG set.
walk() {
  R=; LAST=; rest=$1; links=0
  enter_root
  while [ -n "$rest" ]; do
    case $rest in */*) c=\${rest%%/*}; rest=\${rest#*/} ;; *) c=$rest; rest= ;; esac
    case $c in
      ''|.) continue ;;
      ..) R=\${R%/*}; reenter; continue ;;
    esac
    if [ -L "./$c" ]; then
      links=$((links + 1))
      if [ "$links" -gt 40 ]; then WERR=5; WMSG="too many levels of symbolic links"; return 1; fi
      t=$(readlink -- "./$c"; echo x); t=\${t%?x}
      case $t in /*) R=; enter_root ;; esac
      rest=$t\${rest:+/$rest}
      continue
    fi
    if more "$rest"; then
      if [ ! -e "./$c" ]; then WERR=3; WMSG="no such file or directory"; return 1; fi
      if [ ! -d "./$c" ]; then WERR=4; WMSG="not a directory"; return 1; fi
      enter "$c" || { WERR=3; WMSG="cannot enter $c"; return 1; }
      R=$R/$c
    else
      LAST=$c
      return 0
    fi
  done
  # The path ended on a directory (/, "..", a symlink to a directory): step out of it.
  if [ -n "$R" ]; then LAST=\${R##*/}; R=\${R%/*}; reenter; fi
  return 0
}
root=$1; overlay=$2; nbinds=$3; shift 3
if [ -n "$overlay" ]; then
  mount -t overlay overlay -o "$overlay" "$root" || fail 7 "cannot mount the container's root filesystem"
fi
while [ "$nbinds" -gt 0 ]; do
  bdest=$1; bsrc=$2; bflags=$3; shift 3; nbinds=$((nbinds - 1))
  walk "$bdest" || continue
  [ -n "$LAST" ] || continue
  # A mount point the runtime has not made yet (never started): made as it would.
  if [ ! -e "./$LAST" ] && [ ! -L "./$LAST" ]; then
    if [ -d "$bsrc" ]; then mkdir "./$LAST"; else : > "./$LAST"; fi || continue
  fi
  case $bflags in *r*) bind=--rbind ;; *) bind=--bind ;; esac
  mount "$bind" "$bsrc" "./$LAST" || fail 7 "cannot mount $bsrc on $bdest"
  case $bflags in *o*) mount -o remount,bind,ro "./$LAST" || fail 7 "cannot make $bdest read-only" ;; esac
done
op=$1; shift
case $op in
stat)
  walk "$1" || fail "$WERR" "$1: $WMSG"
  if [ -z "$LAST" ] || [ -d "./$LAST" ]; then kind=dir
  elif [ -e "./$LAST" ] || [ -L "./$LAST" ]; then kind=file
  else kind=missing; fi
  printf '%s\\000%s\\000' "$kind" "$R/$LAST"
  ;;
mkdir)
  # (walk uses rest, c and R: this loop keeps its own names)
  path=$1; uid=$2; gid=$3; mprefix=; mrest=$path
  while [ -n "$mrest" ]; do
    case $mrest in */*) mc=\${mrest%%/*}; mrest=\${mrest#*/} ;; *) mc=$mrest; mrest= ;; esac
    case $mc in ''|.) continue ;; esac
    mprefix=$mprefix/$mc
    walk "$mprefix" || fail "$WERR" "$mprefix: $WMSG"
    [ -n "$LAST" ] || continue
    if [ ! -e "./$LAST" ] && [ ! -L "./$LAST" ]; then
      mkdir -m 755 "./$LAST" || fail 7 "cannot create $mprefix"
      if [ -n "$uid" ]; then chown -h "$uid:$gid" "./$LAST" || fail 7 "cannot change the owner of $mprefix"; fi
    elif [ ! -d "./$LAST" ]; then
      fail 4 "$mprefix: not a directory"
    fi
  done
  walk "$path" || fail "$WERR" "$path: $WMSG"
  printf 'dir\\000%s\\000' "$R/$LAST"
  ;;
get)
  path=$1; contents=$2; plain=$3; uid=$4; gid=$5; mode=\${6:-}
  walk "$path" || fail "$WERR" "$path: $WMSG"
  set -- --numeric-owner --no-unquote
  [ -n "$uid" ] && set -- "$@" --owner=":$uid" --group=":$gid"
  [ -n "$mode" ] && set -- "$@" --mode="$mode"
  if [ -n "$LAST" ] && [ "$contents" != 1 ]; then
    [ -e "./$LAST" ] || [ -L "./$LAST" ] || fail 3 "$path: no such file or directory"
    exec tar -cf - "$@" -- "$LAST"
  fi
  if [ -n "$LAST" ]; then
    [ -d "./$LAST" ] || fail 4 "$path: not a directory"
    enter "$LAST" || fail 3 "$path: cannot enter it"
  fi
  if [ "$plain" = 1 ]; then
    find . -mindepth 1 -maxdepth 1 -printf '%P\\0' | tar -cf - "$@" --null --verbatim-files-from -T -
  else
    exec tar -cf - "$@" .
  fi
  ;;
put)
  dir=$1; transform=$2; sameowner=$3
  walk "$dir" || fail "$WERR" "$dir: $WMSG"
  if [ -n "$LAST" ]; then
    [ -d "./$LAST" ] || fail 4 "$dir: not a directory"
    enter "$LAST" || fail 3 "$dir: cannot enter it"
  fi
  set -- -xf - --numeric-owner -p --no-overwrite-dir
  if [ "$sameowner" = 1 ]; then set -- "$@" --same-owner; else set -- "$@" --no-same-owner; fi
  [ -n "$transform" ] && set -- "$@" --transform="$transform"
  exec tar "$@"
  ;;
*) fail 125 "unknown operation $op" ;;
esac
`;
