export * from './oci-spec.ts';
export * from './idmap.ts';
export * from './capabilities.ts';
export * from './seccomp.ts';
export * from './spec.ts';
export * from './host.ts';
export * from './bundle.ts';
export * from './run.ts';
