// `pbuild version`: buildah's fields, for pbuild. Node's version stands where buildah has Go's;
// buildah's CNI and containers/image versions have no counterpart and are left out. "Built" is
// the time the running bundle was written.
import { statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { goArch } from '@pkit/cli-common/host-info';
import { OCI_VERSION } from '@pkit/runtime/spec';

export interface VersionInfo {
  version: string;
  nodeVersion: string;
  imageSpec: string;
  runtimeSpec: string;
  gitCommit: string;
  built: string;
  osArch: string;
  buildPlatform: string;
}

/** The OCI image-spec version the stored and pushed images follow (artifactType, subject). */
const IMAGE_SPEC = '1.1.0';

export function versionInfo(version: string): VersionInfo {
  const platform = `linux/${goArch()}`;
  return { version, nodeVersion: process.version, imageSpec: IMAGE_SPEC, runtimeSpec: OCI_VERSION, gitCommit: '', built: built(), osArch: platform, buildPlatform: platform };
}

/** buildah's table: labels padded to 17 columns. */
export function versionLines(v: VersionInfo): string[] {
  const rows: Array<[string, string]> = [
    ['Version:', v.version],
    ['Node Version:', v.nodeVersion],
    ['Image Spec:', v.imageSpec],
    ['Runtime Spec:', v.runtimeSpec],
    ['Git Commit:', v.gitCommit],
    ['Built:', v.built],
    ['OS/Arch:', v.osArch],
    ['BuildPlatform:', v.buildPlatform],
  ];
  return rows.map(([label, value]) => `${label.padEnd(17)}${value}`);
}

function built(): string {
  try {
    return ansic(statSync(fileURLToPath(import.meta.url)).mtime);
  } catch {
    return ansic(new Date(0));
  }
}

/** Go's time.ANSIC layout, "Mon Jan _2 15:04:05 2006", in local time (as buildah prints it). */
function ansic(d: Date): string {
  const day = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'][d.getDay()]!;
  const month = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][d.getMonth()]!;
  const two = (n: number) => String(n).padStart(2, '0');
  return `${day} ${month} ${String(d.getDate()).padStart(2, ' ')} ${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())} ${d.getFullYear()}`;
}
