export { IssuerDesk, type IssuerDeskDeps, IssuerError } from "./desk.js";
export { type IssuerHttpDeps, issuerHttpServer } from "./http.js";
export { type IssuerOptions, type RunningIssuer, startIssuer } from "./issuer.js";
export {
  bearerToken,
  IssuerKeyStore,
  KEY_FILE,
  PLATFORM_TOKEN_FILE,
  readSecretFile,
  SecretFileError,
  VENUE_TOKEN_FILE,
  writeSecretFile,
} from "./key-store.js";
export { MIGRATIONS, migrate } from "./migrations.js";
export { openPglite, openPostgres, type SqlClient, type SqlQueries } from "./sql.js";
export { type GenerationRecord, type IssuedTicket, IssuerStore, type IssuerTransaction } from "./store.js";
