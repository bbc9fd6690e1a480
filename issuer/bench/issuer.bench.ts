import { type RunningIssuer, startIssuer } from "@sesame/issuer";
import { makeTempDir } from "@sesame/testing";
import type { BenchFigure } from "@sesame/testing/bench";
import { seededRandom } from "@sesame/ticket";
import { generateDemoVenue } from "@sesame/venue";

/*
 * Resales at the issuer (docs/design.md §11: ≥ 300/s sustained), through its HTTP API as the
 * platform sends them: 4 venues, 16 requests in flight, each resale at its ticket's face value,
 * on the zero-setup store (PGlite). `ISSUER_BENCH_POSTGRES=postgres://…` runs it on a server.
 */

const VENUES = 4;
const PER_VENUE = 500;
const IN_FLIGHT = 16;

async function post(issuer: RunningIssuer, path: string, body: unknown): Promise<void> {
  const res = await fetch(`${issuer.url}${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${issuer.platformToken}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  if (res.status !== 200) throw new Error(`${path}: ${res.status} ${await res.text()}`);
}

export async function run(): Promise<BenchFigure[]> {
  const dir = makeTempDir("sesame-issuer-bench-");
  const postgresUrl = process.env.ISSUER_BENCH_POSTGRES;
  const issuer = await startIssuer({
    dataDir: dir.path,
    log: () => undefined,
    ...(postgresUrl ? { postgresUrl } : {}),
  });
  try {
    const work: Array<{ venue: string; id: number; cents: number }> = [];
    for (let v = 0; v < VENUES; v++) {
      const demo = generateDemoVenue({
        spectators: PER_VENUE,
        doorsOpenMs: Date.now(),
        entrances: 2,
        lanes: 4,
        random: seededRandom(`issuer-bench-${v}`),
        signer: { name: "unused", sign: () => new Uint8Array(64) },
      });
      const venue = { ...demo.venue, id: `bench-${v}` };
      const res = await fetch(`${issuer.url}/venues/${venue.id}`, {
        method: "PUT",
        headers: { authorization: `Bearer ${issuer.platformToken}` },
        body: JSON.stringify(venue),
      });
      if (res.status !== 200) throw new Error(await res.text());
      const rows = [...new Map(demo.rows.map((r) => [r.id, r])).values()].slice(0, PER_VENUE);
      await post(
        issuer,
        `/venues/${venue.id}/tickets`,
        rows.map((r) => ({
          id: r.id,
          holder: r.holder,
          orderReference: r.orderReference,
          sessions: [r.session],
          entrance: r.entrance,
          zone: r.zone,
          kind: r.kind,
          face_value: r.faceValue.cents,
          currency: r.faceValue.currency,
        })),
      );
      for (const r of rows) work.push({ venue: venue.id, id: r.id, cents: r.faceValue.cents });
    }
    // Interleave the venues, as the platform's buyers would.
    work.sort((a, b) => a.id - b.id || a.venue.localeCompare(b.venue));
    let next = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: IN_FLIGHT }, async () => {
        for (let w = work[next++]; w !== undefined; w = work[next++])
          await post(issuer, `/venues/${w.venue}/tickets/${w.id}/resale`, {
            holder: "Jeanne Moreau",
            price: w.cents,
            currency: "EUR",
          });
      }),
    );
    const perSecond = work.length / ((performance.now() - started) / 1000);
    return [
      {
        name: `resales at the issuer (${issuer.store.db.engine}, ${VENUES} venues, ${IN_FLIGHT} in flight)`,
        value: Math.round(perSecond),
        unit: "/s",
        target: "≥ 300/s",
        ok: perSecond >= 300,
      },
    ];
  } finally {
    await issuer.close();
    dir.remove();
  }
}
