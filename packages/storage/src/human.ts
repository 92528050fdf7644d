// Human-readable sizes and ages, in the forms podman prints ("4.57 MB", "2 minutes ago").

/**
 * Decimal units with three significant digits and a space, as podman's images/ps output
 * ("4.57 MB"); `digits`/`space` give other podman forms (system df: 4 digits, no space).
 */
export function humanSize(bytes: number, digits = 3, space = ' '): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let v = bytes;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${Number(v.toPrecision(digits))}${space}${units[i]}`;
}

/** "Less than a second ago", "About a minute ago", "3 hours ago", ... */
export function humanAge(then: Date, now = new Date()): string {
  return `${humanDuration(Math.max(0, now.getTime() - then.getTime()) / 1000)} ago`;
}

function humanDuration(s: number): string {
  if (s < 1) return 'Less than a second';
  if (s < 2) return '1 second';
  if (s < 60) return `${Math.floor(s)} seconds`;
  const m = s / 60;
  if (m < 2) return 'About a minute';
  if (m < 60) return `${Math.floor(m)} minutes`;
  const h = Math.floor(m / 60 + 0.5);
  if (h < 2) return 'About an hour';
  if (h < 48) return `${h} hours`;
  if (h < 24 * 14) return `${Math.floor(h / 24)} days`;
  if (h < 24 * 60) return `${Math.floor(h / 24 / 7)} weeks`;
  if (h < 24 * 365 * 2) return `${Math.floor(h / 24 / 30)} months`;
  return `${Math.floor(m / 60 / 24 / 365)} years`;
}
