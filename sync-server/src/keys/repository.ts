import type { SignedTrustListJson } from "@sesame/ticket";
import type Database from "better-sqlite3";
import type { MetaRepository } from "../db/meta.js";

/*
 * Issuer keys (public halves only: the issuer holds the seeds, docs/issuer.md) and the signed trust
 * list gates pin.
 */

export interface IssuerKeyRecord {
  readonly keyId: number;
  readonly publicKey: string;
  readonly validFrom: number;
  readonly validUntil: number;
  readonly revoked: boolean;
}

export class KeyRepository {
  constructor(
    private readonly db: Database.Database,
    private readonly meta: MetaRepository,
  ) {}

  issuerKeys(): IssuerKeyRecord[] {
    return (
      this.db.prepare("SELECT * FROM issuer_keys ORDER BY key_id").all() as Array<{
        key_id: number;
        public_key: string;
        valid_from: number;
        valid_until: number;
        revoked: number;
      }>
    ).map((r) => ({
      keyId: r.key_id,
      publicKey: r.public_key,
      validFrom: r.valid_from,
      validUntil: r.valid_until,
      revoked: r.revoked === 1,
    }));
  }

  putIssuerKey(k: IssuerKeyRecord): void {
    this.db
      .prepare(
        `INSERT INTO issuer_keys (key_id, public_key, valid_from, valid_until, revoked) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT(key_id) DO UPDATE SET valid_from = excluded.valid_from, valid_until = excluded.valid_until,
           revoked = excluded.revoked`,
      )
      .run(k.keyId, k.publicKey, k.validFrom, k.validUntil, k.revoked ? 1 : 0);
  }

  trustList(): SignedTrustListJson {
    const json = this.meta.meta("trust_list");
    if (!json) throw new Error("no trust list stored");
    return JSON.parse(json) as SignedTrustListJson;
  }

  setTrustList(list: SignedTrustListJson): void {
    this.meta.setMeta("trust_list", JSON.stringify(list));
  }
}
