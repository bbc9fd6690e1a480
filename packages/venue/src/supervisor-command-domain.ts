/*
 * What a supervisor's key signs when it opens lanes: this prefix, then the command's JSON text, the
 * very text the operations key signs too. Kept apart from supervisor-keys.ts (node:crypto-free) so
 * that the supervisor's browser signs with the same bytes the gates check.
 */
export const SUPERVISOR_COMMAND_DOMAIN = "SESAME-SUPERVISOR-COMMAND-1\0";

/** The bytes a supervisor signs for a command (its JSON text, exactly as sent). */
export function supervisorCommandBytes(commandJson: string): Uint8Array {
  return new TextEncoder().encode(SUPERVISOR_COMMAND_DOMAIN + commandJson);
}

/** What the dashboard exports at enrolment (the supervisor's account and browser-made public key). */
export const SUPERVISOR_KEY_REQUEST_FORMAT = "sesame-supervisor-key-request/1";

/** The format of a supervisor certificate (the root's signature over a supervisor's key). */
export const SUPERVISOR_CERTIFICATE_FORMAT = "sesame-supervisor-certificate/1";
