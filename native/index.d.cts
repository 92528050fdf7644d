export function tryFlock(fd: number, exclusive: boolean): boolean;
export function mknod(path: string, mode: number, major: number, minor: number): void;
export function lsetxattr(path: string, name: string, value: Buffer): void;
export function lgetxattr(path: string, name: string): Buffer | null;
export function llistxattr(path: string): string[];
export function syncfs(fd: number): void;
