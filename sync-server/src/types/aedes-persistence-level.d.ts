// aedes-persistence-level ships no types: a persistence instance is opaque to us (aedes takes `any`).
declare module "aedes-persistence-level" {
  import type { Level } from "level";

  function aedesPersistenceLevel(db: Level<string, unknown>): unknown;
  export = aedesPersistenceLevel;
}
