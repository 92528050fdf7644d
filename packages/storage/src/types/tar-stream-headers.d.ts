// tar-stream's header codec, a CommonJS module without its own types.
declare module 'tar-stream/headers.js' {
  const headers: { decodePax(buf: Buffer): Record<string, string> };
  export default headers;
}
