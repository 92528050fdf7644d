// The in-process native addon (non-blocking flock, mknod, xattrs, syncfs), loaded once on first use.
import { createRequire } from 'node:module';

export interface NativeAddon {
  tryFlock(fd: number, exclusive: boolean): boolean;
  mknod(path: string, mode: number, major: number, minor: number): void;
  lsetxattr(path: string, name: string, value: Buffer): void;
  lgetxattr(path: string, name: string): Buffer | null;
  llistxattr(path: string): string[];
  syncfs(fd: number): void;
}

let addon: NativeAddon | undefined;

export function native(): NativeAddon {
  addon ??= createRequire(import.meta.url)('@pkit/native') as NativeAddon;
  return addon;
}
