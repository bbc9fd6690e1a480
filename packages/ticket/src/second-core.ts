import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";
import type { Ed25519Verifier, PendingVerification } from "./ed25519.js";

/*
 * A scan checks two signatures, the issuer's and the device proof; on a 2-core gate they can be
 * checked at once. A persistent worker thread sleeps in Atomics.wait on a SharedArrayBuffer; the
 * scan writes the device proof there and wakes it (microseconds, where a postMessage round trip
 * costs a few hundred), checks the issuer signature itself, then waits for the worker's answer.
 * Whenever the worker cannot answer (not started yet, busy, gone, or late) the scan's thread
 * verifies itself: the answer is the same, only later.
 */

// Shared layout: Int32 control words, then the signature, the public key and the message.
const STATE = 0; // IDLE, REQUEST or DONE
const RESULT = 1; // 1 valid, 0 not
const LENGTH = 2; // message length
const READY = 3; // 1 once the worker has loaded its library
const JOB = 4; // number of the verification in the buffer
const IDLE = 0;
const REQUEST = 1;
const DONE = 2;
const CONTROL_BYTES = 32;
const SIGNATURE_AT = 0;
const KEY_AT = 64;
const MESSAGE_AT = 96;
/** Device proof messages are 50 bytes; a longer message is verified on the scan's thread. */
const MESSAGE_CAPACITY = 256;
/**
 * How long the scan's thread waits for the worker once its own check is done before it verifies
 * the proof itself: a worker that woke late (its core busy elsewhere) costs this much at most,
 * against a verification (~0.1 ms) when it answers in time. Its late answer is dropped.
 */
const DEFAULT_ANSWER_BUDGET_MS = 0.05;

// The worker's code (CommonJS, run from a string so that it needs no file of its own next to
// either the TypeScript sources or a bundle). libsodium reads only memory of its own thread:
// the inputs are copied out of the shared buffer first.
const WORKER_SOURCE = `
const { workerData } = require("node:worker_threads");
const sodium = require(workerData.sodiumPath);
const control = new Int32Array(workerData.shared, 0, ${CONTROL_BYTES / 4});
const data = new Uint8Array(workerData.shared, ${CONTROL_BYTES});
const signature = Buffer.alloc(64);
const key = Buffer.alloc(32);
const message = Buffer.alloc(${MESSAGE_CAPACITY});
Atomics.store(control, ${READY}, 1);
for (;;) {
  const state = Atomics.load(control, ${STATE});
  if (state !== ${REQUEST}) {
    Atomics.wait(control, ${STATE}, state);
    continue;
  }
  signature.set(data.subarray(${SIGNATURE_AT}, ${SIGNATURE_AT + 64}));
  key.set(data.subarray(${KEY_AT}, ${KEY_AT + 32}));
  const length = Atomics.load(control, ${LENGTH});
  message.set(data.subarray(${MESSAGE_AT}, ${MESSAGE_AT} + length));
  let valid = false;
  try {
    valid = sodium.crypto_sign_verify_detached(signature, message.subarray(0, length), key) === true;
  } catch {}
  Atomics.store(control, ${RESULT}, valid ? 1 : 0);
  Atomics.store(control, ${STATE}, ${DONE});
  Atomics.notify(control, ${STATE});
}
`;

/** A verifier whose `begin` runs on a worker thread. */
export interface SecondCoreVerifier extends Ed25519Verifier {
  /** How many verifications the worker answered. */
  readonly answeredByWorker: number;
  /** How many it was given but answered too late (the caller's thread verified them). */
  readonly answeredHere: number;
}

/**
 * Wraps `local` (libsodium on the scan's thread) with `begin`, which starts a verification on a
 * worker thread. Undefined where sodium-native cannot be found for the worker.
 */
export function withSecondCore(
  local: Ed25519Verifier,
  options: { answerBudgetMs?: number } = {},
): SecondCoreVerifier | undefined {
  const budgetMs = options.answerBudgetMs ?? DEFAULT_ANSWER_BUDGET_MS;
  let sodiumPath: string;
  try {
    sodiumPath = createRequire(import.meta.url).resolve("sodium-native");
  } catch {
    return undefined;
  }
  const shared = new SharedArrayBuffer(CONTROL_BYTES + MESSAGE_AT + MESSAGE_CAPACITY);
  const control = new Int32Array(shared, 0, CONTROL_BYTES / 4);
  const data = new Uint8Array(shared, CONTROL_BYTES);
  let worker: Worker | undefined;
  try {
    worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { shared, sodiumPath } });
  } catch {
    return undefined;
  }
  // Never keeps the process alive; an error or exit (library failing to load) retires it.
  worker.unref();
  const retire = () => {
    const w = worker;
    worker = undefined;
    if (w) void w.terminate();
  };
  worker.on("error", retire);
  worker.on("exit", () => {
    worker = undefined;
  });
  const onThisThread = (message: Uint8Array, signature: Uint8Array, publicKey: Uint8Array) => {
    const valid = local.verify(message, signature, publicKey);
    return { wait: () => valid };
  };

  let answeredByWorker = 0;
  let answeredHere = 0;
  return {
    name: `${local.name} (second core)`,
    get answeredByWorker() {
      return answeredByWorker;
    },
    get answeredHere() {
      return answeredHere;
    },
    verify: (message, signature, publicKey) => local.verify(message, signature, publicKey),
    begin(message, signature, publicKey): PendingVerification {
      // An answer nobody collected (its scan failed before waiting) leaves the worker free.
      if (Atomics.load(control, STATE) === DONE) Atomics.store(control, STATE, IDLE);
      if (
        worker === undefined ||
        Atomics.load(control, READY) !== 1 ||
        Atomics.load(control, STATE) !== IDLE ||
        message.length > MESSAGE_CAPACITY ||
        signature.length !== 64 ||
        publicKey.length !== 32
      )
        return onThisThread(message, signature, publicKey);
      data.set(signature, SIGNATURE_AT);
      data.set(publicKey, KEY_AT);
      data.set(message, MESSAGE_AT);
      Atomics.store(control, LENGTH, message.length);
      const job = Atomics.add(control, JOB, 1) + 1;
      Atomics.store(control, STATE, REQUEST);
      Atomics.notify(control, STATE);
      let answer: boolean | undefined;
      return {
        wait() {
          if (answer !== undefined) return answer;
          if (Atomics.load(control, JOB) !== job) {
            // Collected too late: the buffer holds a later verification now.
            answer = local.verify(message, signature, publicKey);
            return answer;
          }
          const deadline = performance.now() + budgetMs;
          while (Atomics.load(control, STATE) !== DONE) {
            const left = deadline - performance.now();
            if (left <= 0) {
              // Late: answer here. The worker's answer, when it comes, frees it for a later scan.
              answer = local.verify(message, signature, publicKey);
              answeredHere++;
              return answer;
            }
            Atomics.wait(control, STATE, REQUEST, left);
          }
          answer = Atomics.load(control, RESULT) === 1;
          Atomics.store(control, STATE, IDLE);
          answeredByWorker++;
          return answer;
        },
      };
    },
  };
}
