import { readSecrets } from "@sesame/venue";
import { certifyPublicKey } from "@sesame/venue/testing";
import type { Page } from "playwright-core";

/*
 * Enrols the signed-in supervisor's browser as a person would: on the commands tab, make the key,
 * hand its public half to the root holder (here: the venue directory's root seed, as the demo keeps
 * it), paste the certificate back. For browser tests; returns the public key.
 */
export async function enrolSupervisorKey(
  page: Page,
  options: { readonly venueDir: string; readonly venueId: string; readonly account: string },
): Promise<string> {
  await page.getByTestId("tab-commands").click();
  const card = page.getByTestId("signing-key");
  await card.getByRole("button", { name: /Créer ma clé|Create my key/ }).click();
  await card.locator('[data-testid=signing-key-status][data-state="uncertified"]').waitFor();
  const publicKey = (await card.getByTestId("signing-public-key").textContent()) ?? "";
  const certificate = certifyPublicKey({
    rootSeed: readSecrets(options.venueDir).rootSeed,
    venueId: options.venueId,
    supervisor: options.account,
    publicKey,
  });
  await card.locator("textarea[name=certificate]").fill(JSON.stringify(certificate));
  await card.getByRole("button", { name: /Importer le certificat|Import the certificate/ }).click();
  await card.locator('[data-testid=signing-key-status][data-state="certified"]').waitFor();
  return publicKey;
}
