// Worker-thread entry of a rehearsal sector. Plain JavaScript so that Node can start it without a
// TypeScript loader; it registers tsx for this thread, then loads the sector code.
import { workerData } from "node:worker_threads";
import { register } from "tsx/esm/api";

register();
await import(workerData.entry);
