import { runCli } from "./index.js";

const controller = new AbortController();
const interrupted = new Promise<void>((resolve) => {
  const stop = () => {
    controller.abort();
    resolve();
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
});

const code = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  now: () => Date.now(),
  interrupted,
});
process.exit(code);
