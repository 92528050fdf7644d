// The in-process native addon (flock, mknod, xattrs, syncfs), loaded once on first use.
import { createRequire } from 'node:module';

export interface NativeAddon {
  flock(fd: number, exclusive: boolean, cb: (err: NodeJS.ErrnoException | null) => void): void;
  tryFlock(fd: number, exclusive: boolean): boolean;
  funlock(fd: number): void;
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
