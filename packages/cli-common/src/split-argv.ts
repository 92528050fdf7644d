// Commands whose command line ends in another program's (prun run/exec/top/unshare, pbuild
// unshare): the tool's own flags stop at the first word that is not one, and everything after it
// is the program's, flags included.

/**
 * Splits `[FLAGS] IMAGE [COMMAND...]`: the flags before IMAGE (short booleans clustered as in
 * `-it` spread out), IMAGE, and the command. `valueFlags` are the spellings that take a value.
 */
export function splitAtImage(argv: string[], valueFlags: Set<string>, shortBooleans: Set<string>): { own: string[]; image?: string; command: string[] } {
  const own: string[] = [];
  let i = 0;
  while (i < argv.length) {
    const a = argv[i]!;
    if (a === '--') { i++; break; }
    if (!a.startsWith('-') || a === '-') break;
    if (/^-[a-zA-Z]{2,}$/.test(a) && [...a.slice(1)].every((c) => shortBooleans.has(c))) {
      for (const c of a.slice(1)) own.push(`-${c}`);
      i++;
      continue;
    }
    own.push(a);
    if (valueFlags.has(a) && i + 1 < argv.length) own.push(argv[++i]!);
    i++;
  }
  const image = argv[i];
  return { own, ...(image !== undefined ? { image } : {}), command: argv.slice(i + 1) };
}

/** The spellings of flags that take a value, and the single-letter booleans, of a flag table. */
export function flagShapes(flags: Record<string, { type: string; char?: string; aliases?: string[] }>): { valueFlags: Set<string>; shortBooleans: Set<string> } {
  const valueFlags = new Set<string>();
  const shortBooleans = new Set<string>();
  for (const [name, def] of Object.entries(flags)) {
    if (def.type === 'option') {
      valueFlags.add(`--${name}`);
      for (const a of def.aliases ?? []) valueFlags.add(`--${a}`);
      if (def.char) valueFlags.add(`-${def.char}`);
    } else if (def.char) {
      shortBooleans.add(def.char);
    }
  }
  return { valueFlags, shortBooleans };
}
