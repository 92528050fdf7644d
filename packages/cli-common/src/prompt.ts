// Reading a secret without showing it, and reading all of stdin.
import { createInterface } from 'node:readline';

/** Asks on the terminal; with `echo` false, typed characters are not shown. */
export function readPassword(question: string, echo: boolean): Promise<string> {
  return new Promise((resolve) => {
    const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
    const out = rl as unknown as { _writeToOutput: (s: string) => void };
    const write = out._writeToOutput.bind(rl);
    out._writeToOutput = (s: string) => write(echo || s.startsWith(question) ? s : '');
    rl.question(question, (answer) => {
      if (!echo) process.stderr.write('\n');
      rl.close();
      resolve(answer);
    });
  });
}

export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
