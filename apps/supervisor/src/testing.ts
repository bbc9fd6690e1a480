import type { Page } from "playwright-core";

/*
 * Enrols the signed-in supervisor's browser as a person would: on the commands tab, make the key,
 * hand its public half to the root holder (`certify`: in tests, `certifyPublicKey` of
 * @sesame/venue/testing), paste the certificate back. For browser tests; returns the public key.
 */
export async function enrolSupervisorKey(
  page: Page,
  certify: (publicKey: string) => unknown,
): Promise<string> {
  await page.getByTestId("tab-commands").click();
  const card = page.getByTestId("signing-key");
  await card.getByRole("button", { name: /Créer ma clé|Create my key/ }).click();
  await card.locator('[data-testid=signing-key-status][data-state="uncertified"]').waitFor();
  const publicKey = (await card.getByTestId("signing-public-key").textContent()) ?? "";
  await card.locator("textarea[name=certificate]").fill(JSON.stringify(certify(publicKey)));
  await card.getByRole("button", { name: /Importer le certificat|Import the certificate/ }).click();
  await card.locator('[data-testid=signing-key-status][data-state="certified"]').waitFor();
  return publicKey;
}
