/*
 * Stable reason codes of gate decisions with the steward's messages in French and English.
 * Codes never change meaning: logs, the dashboard and the simulator's ground truth rely on them.
 * `headline` is what the kiosk shows in large letters; `tell` is what the steward says to the holder.
 */

export type Outcome = "ADMIT" | "REFUSE" | "ASSISTED";

export const ADMIT_REASONS = [
  "ADMITTED",
  "ADMITTED_NEW_SALE",
  "EXIT_RECORDED",
  "EXIT_FINAL",
  "FREE_PASSAGE",
] as const;
export const ASSISTED_REASONS = [
  "PRINTED_CONFIRMATION",
  "ID_CHECK_REQUIRED",
  "ACCESSIBILITY_ASSISTANCE",
] as const;
export const REFUSE_REASONS = [
  "MALFORMED",
  "NOT_A_TICKET",
  "SCANNER_LOWER_CASE",
  "UNSUPPORTED_VERSION",
  "UNKNOWN_KEY",
  "KEY_REVOKED",
  "KEY_NOT_VALID",
  "FORGED",
  "FORGED_PROOF",
  "EXPIRED_CODE",
  "CODE_FROM_FUTURE",
  "CLOCK_SKEW",
  "TICKET_NOT_VALID",
  "UNKNOWN_TICKET",
  "REVOKED_RESOLD",
  "SUPERSEDED_TRANSFERRED",
  "CANCELLED",
  "WRONG_DAY",
  "WRONG_SESSION",
  "NOT_YET_OPEN",
  "CLOSED",
  "WRONG_ENTRANCE",
  "ALREADY_ENTERED",
  "PASSAGE_PENDING",
  "NOT_INSIDE",
  "LANE_LOCKED",
] as const;

/**
 * Refusals that mean a forged, forwarded or foreign code, not a holder's mistake: the gate raises its
 * local alert on them, the sync-server a forgery alert. Not KEY_REVOKED nor KEY_NOT_VALID: a
 * genuine ticket under a key the venue has since revoked, or whose validity window is over or not
 * begun (a key rotation), is refused for its key, and the server groups those refusals per key and
 * gate into one `revoked-key-scans` or `key-not-valid-scans` alert with a count.
 */
export const FORGERY_REASONS: ReadonlySet<string> = new Set<RefuseReason>([
  "FORGED",
  "FORGED_PROOF",
  "UNKNOWN_KEY",
]);

/**
 * Not a decision: the gate failed while handling a scan (its store, a bug). Recorded as a refusal;
 * nothing was consumed, the holder scans again.
 */
export const FAILURE_REASONS = ["SCAN_FAILED"] as const;

/** Not decisions: what a lane saw happen without one (recorded as `alarm` events, alerted to supervisors). */
export const ALARM_REASONS = ["FORCED_PASSAGE", "TAILGATE"] as const;

/**
 * Not scan decisions: a steward's admission by hand (docs/design.md §1, "Manual admission").
 * SUPERVISOR_OVERRIDE admits what a steward alone may not (the event's `override` names the
 * supervisor and the ticket's real state); MOBILE_TICKET is that state for a phone ticket;
 * OVERRIDE_REFUSED records a wrong supervisor code (alerted).
 */
export const MANUAL_REASONS = ["SUPERVISOR_OVERRIDE", "MOBILE_TICKET", "OVERRIDE_REFUSED"] as const;

export type AdmitReason = (typeof ADMIT_REASONS)[number];
export type AlarmReason = (typeof ALARM_REASONS)[number];
export type AssistedReason = (typeof ASSISTED_REASONS)[number];
export type RefuseReason = (typeof REFUSE_REASONS)[number];
export type ManualReason = (typeof MANUAL_REASONS)[number];
export type FailureReason = (typeof FAILURE_REASONS)[number];
export type ReasonCode =
  | AdmitReason
  | AssistedReason
  | RefuseReason
  | AlarmReason
  | ManualReason
  | FailureReason;

export interface StewardMessage {
  readonly headline: string;
  readonly tell: string;
}

export interface MessageParams {
  /** Entrance the holder must use, e.g. "K". */
  readonly entrance?: string;
  /** A local time, e.g. "19:30", or a date "27/07". */
  readonly time?: string;
  readonly date?: string;
  /** The session a refusal is about, by name. */
  readonly session?: string;
  readonly gate?: string;
  /** Empty or absent: the holder is not known at this gate (a generation the cache has not had yet). */
  readonly holder?: string;
}

type Template = (p: MessageParams) => StewardMessage;
const m =
  (headline: string, tell: string): Template =>
  () => ({ headline, tell });

const FR: Record<ReasonCode, Template> = {
  ADMITTED: m("Entrée autorisée", "Bon match !"),
  ADMITTED_NEW_SALE: m("Entrée autorisée", "Billet acheté récemment : bon match !"),
  EXIT_RECORDED: m("Sortie enregistrée", "Vous pourrez revenir avec ce billet."),
  EXIT_FINAL: m("Sortie définitive", "Pas de retour possible pour cette session."),
  FREE_PASSAGE: m("Passage libre", "Avancez sans scanner."),
  PRINTED_CONFIRMATION: (p) => ({
    headline: "Confirmation imprimée",
    tell: p.holder
      ? `Vérifier une pièce d'identité : ${p.holder}`
      : "Titulaire pas encore connu de cette porte : vérifier la pièce d'identité avec le nom de la confirmation.",
  }),
  ID_CHECK_REQUIRED: (p) => ({
    headline: "Contrôle d'identité",
    tell: p.holder
      ? `Vérifier une pièce d'identité : ${p.holder}`
      : "Titulaire pas encore connu de cette porte : vérifier la pièce d'identité avec le titulaire affiché dans l'application officielle.",
  }),
  ACCESSIBILITY_ASSISTANCE: m("Accès PMR", "Ouvrir le couloir large et accompagner."),
  MALFORMED: m("Code illisible", "Augmentez la luminosité de l'écran et présentez le code à nouveau."),
  NOT_A_TICKET: m("Ce n'est pas un billet", "Ouvrez le billet dans l'application officielle."),
  SCANNER_LOWER_CASE: m(
    "Scanner mal réglé (minuscules)",
    "Votre billet n'est pas en cause : passez au couloir voisin. Réglage du scanner à corriger (casse).",
  ),
  UNSUPPORTED_VERSION: m("Format non reconnu", "Mettez à jour l'application officielle."),
  UNKNOWN_KEY: m("Billet non reconnu", "Se rendre à la billetterie."),
  KEY_REVOKED: m("Billet non reconnu", "Se rendre à la billetterie."),
  KEY_NOT_VALID: m(
    "Billet à renouveler",
    "Billet à actualiser dans l'application officielle, sinon se rendre à la billetterie.",
  ),
  FORGED: m("Billet falsifié", "Se rendre à la billetterie. Superviseur prévenu."),
  FORGED_PROOF: m("Code transféré", "Le billet doit être présenté depuis le téléphone de son titulaire."),
  EXPIRED_CODE: m("Code expiré", "Capture d'écran refusée : ouvrez le billet dans l'application."),
  CODE_FROM_FUTURE: m("Heure du téléphone incorrecte", "Réglez l'heure du téléphone en automatique."),
  CLOCK_SKEW: m("Horloge du portique suspecte", "Appeler un superviseur."),
  TICKET_NOT_VALID: m("Billet hors validité", "Se rendre à la billetterie."),
  UNKNOWN_TICKET: m("Billet inconnu", "Se rendre à la billetterie."),
  REVOKED_RESOLD: m("Billet revendu", "Ce billet a été revendu : l'ancien code n'est plus valable."),
  SUPERSEDED_TRANSFERRED: m(
    "Billet transféré",
    "Le billet a été transféré : seul le nouveau titulaire peut entrer.",
  ),
  CANCELLED: m("Billet annulé", "Se rendre à la billetterie."),
  WRONG_DAY: (p) => ({
    headline: "Mauvais jour",
    tell: `Votre billet est pour ${p.session ? `${p.session}, ` : ""}le ${p.date ?? "?"}.`,
  }),
  WRONG_SESSION: (p) => ({
    headline: "Autre session",
    tell: `Votre session${p.session ? ` (${p.session})` : ""} ouvre à ${p.time ?? "?"}.`,
  }),
  NOT_YET_OPEN: (p) => ({
    headline: "Portes pas encore ouvertes",
    tell: `Ouverture des portes à ${p.time ?? "?"}.`,
  }),
  CLOSED: m("Session terminée", "Les portes de cette session sont fermées."),
  WRONG_ENTRANCE: (p) => ({
    headline: `Entrée porte ${p.entrance ?? "?"}`,
    tell: `Votre entrée est la porte ${p.entrance ?? "?"}.`,
  }),
  ALREADY_ENTERED: (p) => ({
    headline: "Déjà entré",
    tell: `Billet déjà utilisé à ${p.time ?? "?"}, porte ${p.gate ?? "?"}.`,
  }),
  PASSAGE_PENDING: (p) => ({
    headline: "Passage en cours",
    tell: `Ce billet passe en ce moment à la porte ${p.gate ?? "?"}.`,
  }),
  NOT_INSIDE: m("Sortie non enregistrée", "Ce billet n'est pas entré pour cette session."),
  LANE_LOCKED: m("Couloir fermé", "Utilisez le couloir voisin."),
  SCAN_FAILED: m(
    "Erreur du portique",
    "Billet non utilisé : scannez à nouveau. Si cela se répète, utilisez le couloir voisin et appelez un technicien.",
  ),
  FORCED_PASSAGE: m("Passage forcé", "Quelqu'un est passé sans autorisation : rattrapez-le."),
  TAILGATE: m("Passage à deux", "Une deuxième personne est passée derrière un billet validé."),
  SUPERVISOR_OVERRIDE: m("Admis par un superviseur", "Entrée autorisée sur décision du superviseur."),
  MOBILE_TICKET: m(
    "Billet mobile",
    "Scanner le billet dans l'application ; sinon, seul un superviseur peut l'admettre.",
  ),
  OVERRIDE_REFUSED: m("Code superviseur refusé", "Superviseurs prévenus."),
};

const EN: Record<ReasonCode, Template> = {
  ADMITTED: m("Admitted", "Enjoy the event!"),
  ADMITTED_NEW_SALE: m("Admitted", "Recently bought ticket: enjoy the event!"),
  EXIT_RECORDED: m("Exit recorded", "You may come back in with this ticket."),
  EXIT_FINAL: m("Final exit", "No re-entry for this session."),
  FREE_PASSAGE: m("Free passage", "Walk through without scanning."),
  PRINTED_CONFIRMATION: (p) => ({
    headline: "Printed confirmation",
    tell: p.holder
      ? `Check an ID: ${p.holder}`
      : "Holder not known at this gate yet: check the ID against the name on the confirmation.",
  }),
  ID_CHECK_REQUIRED: (p) => ({
    headline: "ID check",
    tell: p.holder
      ? `Check an ID: ${p.holder}`
      : "Holder not known at this gate yet: check the ID against the holder shown in the official app.",
  }),
  ACCESSIBILITY_ASSISTANCE: m("Accessible entry", "Open the wide lane and assist."),
  MALFORMED: m("Unreadable code", "Turn up the screen brightness and show the code again."),
  NOT_A_TICKET: m("Not a ticket", "Open the ticket in the official app."),
  SCANNER_LOWER_CASE: m(
    "Scanner setting: lower case",
    "Your ticket is fine: please use the next lane. The scanner's letter-case setting needs fixing.",
  ),
  UNSUPPORTED_VERSION: m("Unknown format", "Update the official app."),
  UNKNOWN_KEY: m("Ticket not recognised", "Go to the ticket office."),
  KEY_REVOKED: m("Ticket not recognised", "Go to the ticket office."),
  KEY_NOT_VALID: m(
    "Ticket needs renewing",
    "Refresh the ticket in the official app, or go to the ticket office.",
  ),
  FORGED: m("Forged ticket", "Go to the ticket office. Supervisor alerted."),
  FORGED_PROOF: m("Forwarded code", "The ticket must be shown from its holder's phone."),
  EXPIRED_CODE: m("Expired code", "Screenshots are refused: open the ticket in the app."),
  CODE_FROM_FUTURE: m("Phone clock is wrong", "Set the phone's time to automatic."),
  CLOCK_SKEW: m("Gate clock suspect", "Call a supervisor."),
  TICKET_NOT_VALID: m("Ticket not valid now", "Go to the ticket office."),
  UNKNOWN_TICKET: m("Unknown ticket", "Go to the ticket office."),
  REVOKED_RESOLD: m("Ticket resold", "This ticket was resold: the old code is void."),
  SUPERSEDED_TRANSFERRED: m(
    "Ticket transferred",
    "The ticket was transferred: only the new holder may enter.",
  ),
  CANCELLED: m("Ticket cancelled", "Go to the ticket office."),
  WRONG_DAY: (p) => ({
    headline: "Wrong day",
    tell: `Your ticket is for ${p.session ? `${p.session}, on ` : ""}${p.date ?? "?"}.`,
  }),
  WRONG_SESSION: (p) => ({
    headline: "Other session",
    tell: `Your session${p.session ? ` (${p.session})` : ""} opens its doors at ${p.time ?? "?"}.`,
  }),
  NOT_YET_OPEN: (p) => ({ headline: "Doors not open yet", tell: `Doors open at ${p.time ?? "?"}.` }),
  CLOSED: m("Session over", "This session's doors are closed."),
  WRONG_ENTRANCE: (p) => ({
    headline: `Use gate ${p.entrance ?? "?"}`,
    tell: `Your entrance is gate ${p.entrance ?? "?"}.`,
  }),
  ALREADY_ENTERED: (p) => ({
    headline: "Already entered",
    tell: `Ticket used at ${p.time ?? "?"}, gate ${p.gate ?? "?"}.`,
  }),
  PASSAGE_PENDING: (p) => ({
    headline: "Passage in progress",
    tell: `This ticket is going through gate ${p.gate ?? "?"} right now.`,
  }),
  NOT_INSIDE: m("Exit not recorded", "This ticket has not entered for this session."),
  LANE_LOCKED: m("Lane closed", "Use the next lane."),
  SCAN_FAILED: m(
    "Gate error",
    "Ticket not used: scan again. If it happens again, use the next lane and call a technician.",
  ),
  FORCED_PASSAGE: m("Forced passage", "Someone went through without authorization: catch up with them."),
  TAILGATE: m("Tailgating", "A second person went through behind a valid ticket."),
  SUPERVISOR_OVERRIDE: m("Admitted by a supervisor", "Entry on a supervisor's override."),
  MOBILE_TICKET: m("Mobile ticket", "Scan the ticket in the app; otherwise only a supervisor may admit it."),
  OVERRIDE_REFUSED: m("Supervisor code refused", "Supervisors alerted."),
};

export type Language = "fr" | "en";

export function stewardMessages(
  reason: ReasonCode,
  params: MessageParams = {},
): Record<Language, StewardMessage> {
  return { fr: FR[reason](params), en: EN[reason](params) };
}

export function outcomeOf(reason: ReasonCode): Outcome {
  if ((ADMIT_REASONS as readonly string[]).includes(reason)) return "ADMIT";
  if ((ASSISTED_REASONS as readonly string[]).includes(reason) || reason === "SUPERVISOR_OVERRIDE")
    return "ASSISTED";
  return "REFUSE";
}
