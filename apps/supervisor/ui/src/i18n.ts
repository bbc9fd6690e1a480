import { createContext, useContext } from "react";

/*
 * French and English dashboard strings. Steward reason texts come from the server (@sesame/gate-core
 * via GET /api/reasons), so that the dashboard and the kiosk say the same thing.
 */

export type Language = "fr" | "en";

const FR = {
  appTitle: "Supervision",
  signInTitle: "Connexion à la supervision",
  signInHint: "Réservé aux superviseurs et techniciens du site.",
  name: "Identifiant",
  password: "Mot de passe",
  signIn: "Se connecter",
  token: "Jeton d'accès",
  useToken: "Se connecter avec un jeton d'accès",
  usePassword: "Se connecter avec un identifiant",
  wrongToken: "Jeton inconnu.",
  signingIn: "Connexion…",
  signOut: "Se déconnecter",
  wrongPassword: "Identifiant ou mot de passe incorrect.",
  tooManyAttempts: "Trop d'essais. Réessayez dans {seconds} s.",
  networkError: "Serveur injoignable. Réessayez.",
  sessionExpired: "Session expirée : reconnectez-vous.",
  roleSupervisor: "superviseur",
  roleTech: "technicien",
  roleAdmin: "administrateur",
  live: "En direct",
  reconnecting: "Reconnexion…",
  tabOverview: "Vue d'ensemble",
  tabAlerts: "Alertes",
  tabGates: "Portiques",
  tabCommands: "Commandes",
  entered: "Entrées",
  inside: "Présents",
  refused: "Refus",
  freePassages: "Passages libres",
  alarms: "Passages forcés ou à deux",
  gatesOnline: "Portiques en ligne",
  openAlerts: "Alertes ouvertes",
  sessions: "Sessions",
  entrances: "Entrées du site",
  zones: "Zones",
  gates: "Portiques",
  session: "Session",
  entrance: "Entrée",
  zone: "Zone",
  gate: "Portique",
  tickets: "Billets",
  capacity: "Capacité",
  ofCapacity: "{value} sur {capacity}",
  exportCsv: "Journal CSV",
  exportCsvTitle: "Télécharger le journal des entrées de cette session (CSV)",
  perMinute: "Entrées par minute (90 dernières minutes)",
  perMinuteLegendEntered: "entrées",
  perMinuteLegendRefused: "refus",
  chartBar: "{time} : {entered} entrées, {refused} refus",
  refusalReasons: "Motifs de refus",
  reason: "Motif",
  count: "Nombre",
  noRefusals: "Aucun refus pour l'instant.",
  noAlerts: "Aucune alerte.",
  "alertType_double-entry": "Double utilisation",
  alertType_forgery: "Billet falsifié",
  "alertType_forced-passage": "Passage forcé",
  alertType_tailgate: "Passage à deux",
  "alertType_gate-offline": "Portique hors ligne",
  "alertType_clock-skew": "Horloge décalée",
  "alertType_implausible-events": "Événements invraisemblables",
  "alertType_gate-quarantined": "Portique en quarantaine",
  quarantine: "Quarantaine",
  quarantined: "en quarantaine",
  quarantineGate: "Mettre en quarantaine",
  quarantinedBy: "par {by} à {time} : {reason}",
  provisioned: "Provisionné",
  provisionedBy: "par {by} à {time}",
  provisionedForced: "forcé alors qu'il était en ligne",
  confirmQuarantine: "Mettre le portique {gate} en quarantaine ?",
  quarantineExplain:
    "Le serveur refusera tout ce que ce portique envoie jusqu'à ce qu'il soit provisionné de nouveau.",
  quarantineReason: "Motif",
  "alertType_revoked-key-scans": "Clé d'émission révoquée",
  "alertType_key-not-valid-scans": "Clé d'émission hors validité",
  occurrences: "× {count} · dernier à {time}",
  "alertType_broker-denied": "Refusé par le broker",
  "alertType_forged-message": "Message falsifié refusé",
  "alertType_override-refused": "Code superviseur refusé",
  "alertType_provisioning-refused": "Provisionnement refusé (pas administrateur)",
  "alertType_forced-provisioning": "Portique en ligne provisionné (forcé)",
  "alertType_supervisor-signature-refused": "Ouverture refusée (signature du superviseur absente ou fausse)",
  acknowledge: "Acquitter",
  acknowledged: "Acquittée par {by} à {time}",
  open: "Ouverte",
  ackTechOnly: "Les alertes de sûreté sont acquittées par un superviseur.",
  confirmAck: "Acquitter cette alerte ?",
  status: "État",
  online: "en ligne",
  offline: "hors ligne",
  silent: "muet",
  unknown: "jamais vu",
  notProvisioned: "non provisionné",
  lastHeartbeat: "Dernier signal",
  outbox: "File d'envoi",
  ackedSeq: "Acquitté (serveur / portique)",
  clockOffset: "Décalage horloge",
  dataAge: "Âge des données",
  lanes: "Couloirs",
  agoSeconds: "il y a {n} s",
  agoMinutes: "il y a {n} min",
  never: "jamais",
  commandsSupervisorOnly:
    "Les commandes sont réservées aux superviseurs. Votre rôle (technicien) permet de les consulter, pas de les envoyer.",
  signingKeyTitle: "Ma clé de signature",
  signingKeyHelp:
    "Ouvrir des couloirs demande votre signature : une clé créée dans ce navigateur (elle n'en sort pas), certifiée hors ligne par le détenteur de la clé racine du site.",
  signingKeyNone: "Aucune clé dans ce navigateur.",
  signingKeyUncertified: "Clé créée, en attente de son certificat.",
  signingKeyCertified: "Clé certifiée pour {name}, valable jusqu'au {until}.",
  createSigningKey: "Créer ma clé",
  replaceSigningKey: "Remplacer ma clé",
  signingKeyPublic: "Clé publique :",
  signingKeyRequestHint:
    "Remettez cette demande au détenteur de la clé racine, qui la certifie : sesame supervisor-certificate --venue DOSSIER --root FICHIER --request DEMANDE --out CERTIFICAT",
  downloadKeyRequest: "Télécharger la demande",
  certificatePaste: "Certificat reçu (JSON)",
  importCertificate: "Importer le certificat",
  certificateImported: "Certificat importé : vous pouvez ouvrir des couloirs depuis ce navigateur.",
  freePassageNeedsKey:
    "Pour ouvrir en passage libre, créez votre clé et importez son certificat (ci-dessus).",
  signingKeyUnsupported: "Ce navigateur ne sait pas créer de clé Ed25519 : utilisez un navigateur à jour.",
  freePassageTitle: "Passage libre (urgence)",
  freePassageHelp: "Tous les couloirs s'ouvrent sans contrôle de billet jusqu'à la fin du passage libre.",
  target: "Cible",
  wholeVenue: "Tout le site (toutes les entrées)",
  startFreePassage: "Ouvrir en passage libre",
  endFreePassage: "Fin du passage libre",
  laneTitle: "Verrouiller ou déverrouiller un couloir",
  lane: "Couloir",
  allLanes: "Tous les couloirs",
  lockLane: "Verrouiller",
  unlockLane: "Déverrouiller",
  messageTitle: "Message aux stewards",
  messageText: "Texte du message",
  sendMessage: "Envoyer le message",
  recentCommands: "Commandes récentes",
  noCommands: "Aucune commande envoyée.",
  confirm: "Confirmer",
  cancel: "Annuler",
  confirmTitle: "Confirmer la commande",
  "cmd_free-passage": "Passage libre",
  "cmd_end-free-passage": "Fin du passage libre",
  "cmd_lock-lane": "Verrouillage de couloir",
  "cmd_unlock-lane": "Déverrouillage de couloir",
  cmd_message: "Message",
  confirmFreePassage: "Ouvrir {target} en passage libre ? Les billets ne seront plus contrôlés.",
  confirmEndFreePassage: "Mettre fin au passage libre pour {target} ?",
  confirmLock: "Verrouiller {lane} du portique {gate} ?",
  confirmUnlock: "Déverrouiller {lane} du portique {gate} ?",
  confirmMessage: "Envoyer ce message aux stewards de {target} ?",
  targetEntrance: "l'entrée {name}",
  targetGate: "le portique {gate}",
  gateLabel: "Portique {gate}",
  targetVenue: "tout le site",
  theLane: "le couloir {lane}",
  allTheLanes: "tous les couloirs",
  gatesConcerned: "Portiques concernés : {gates}",
  noGateConcerned: "Aucun portique provisionné n'est concerné.",
  ackLabel: "{gate} : {state}",
  ack_done: "exécutée",
  ack_refused: "refusée",
  ack_expired: "expirée",
  ack_pending: "en attente",
  ack_noAnswer: "sans réponse",
  sentBy: "par {by} à {time}",
  sent: "Commande envoyée.",
  errorPrefix: "Erreur : {message}",
  language: "Langue",
  expectedOf: "{tickets} billets",
};

export type MessageKey = keyof typeof FR;

const EN: Record<MessageKey, string> = {
  appTitle: "Supervision",
  signInTitle: "Sign in to supervision",
  signInHint: "For the venue's supervisors and techs only.",
  name: "User name",
  password: "Password",
  signIn: "Sign in",
  token: "Access token",
  useToken: "Sign in with an access token",
  usePassword: "Sign in with a user name",
  wrongToken: "Unknown token.",
  signingIn: "Signing in…",
  signOut: "Sign out",
  wrongPassword: "Wrong user name or password.",
  tooManyAttempts: "Too many attempts. Try again in {seconds} s.",
  networkError: "Cannot reach the server. Try again.",
  sessionExpired: "Session expired: sign in again.",
  roleSupervisor: "supervisor",
  roleTech: "tech",
  roleAdmin: "admin",
  live: "Live",
  reconnecting: "Reconnecting…",
  tabOverview: "Overview",
  tabAlerts: "Alerts",
  tabGates: "Gates",
  tabCommands: "Commands",
  entered: "Entries",
  inside: "Inside",
  refused: "Refusals",
  freePassages: "Free passages",
  alarms: "Forced passages, tailgating",
  gatesOnline: "Gates online",
  openAlerts: "Open alerts",
  sessions: "Sessions",
  entrances: "Entrances",
  zones: "Zones",
  gates: "Gates",
  session: "Session",
  entrance: "Entrance",
  zone: "Zone",
  gate: "Gate",
  tickets: "Tickets",
  capacity: "Capacity",
  ofCapacity: "{value} of {capacity}",
  exportCsv: "CSV log",
  exportCsvTitle: "Download this session's entry log (CSV)",
  perMinute: "Entries per minute (last 90 minutes)",
  perMinuteLegendEntered: "entries",
  perMinuteLegendRefused: "refusals",
  chartBar: "{time}: {entered} entries, {refused} refusals",
  refusalReasons: "Refusal reasons",
  reason: "Reason",
  count: "Count",
  noRefusals: "No refusals yet.",
  noAlerts: "No alerts.",
  "alertType_double-entry": "Double use",
  alertType_forgery: "Forged ticket",
  "alertType_forced-passage": "Forced passage",
  alertType_tailgate: "Tailgating",
  "alertType_gate-offline": "Gate offline",
  "alertType_clock-skew": "Clock skew",
  "alertType_implausible-events": "Implausible events",
  "alertType_gate-quarantined": "Gate quarantined",
  quarantine: "Quarantine",
  quarantined: "quarantined",
  quarantineGate: "Quarantine",
  quarantinedBy: "by {by} at {time}: {reason}",
  provisioned: "Provisioned",
  provisionedBy: "by {by} at {time}",
  provisionedForced: "forced while it was online",
  confirmQuarantine: "Quarantine gate {gate}?",
  quarantineExplain: "The server will refuse everything this gate sends until it is provisioned again.",
  quarantineReason: "Reason",
  "alertType_revoked-key-scans": "Revoked issuer key",
  "alertType_key-not-valid-scans": "Issuer key out of its validity",
  occurrences: "× {count} · last at {time}",
  "alertType_broker-denied": "Refused by the broker",
  "alertType_forged-message": "Forged message refused",
  "alertType_override-refused": "Supervisor code refused",
  "alertType_provisioning-refused": "Provisioning refused (not an admin)",
  "alertType_forced-provisioning": "Online gate provisioned (forced)",
  "alertType_supervisor-signature-refused": "Opening refused (supervisor's signature missing or wrong)",
  acknowledge: "Acknowledge",
  acknowledged: "Acknowledged by {by} at {time}",
  open: "Open",
  ackTechOnly: "Security alerts are acknowledged by a supervisor.",
  confirmAck: "Acknowledge this alert?",
  status: "Status",
  online: "online",
  offline: "offline",
  silent: "silent",
  unknown: "never seen",
  notProvisioned: "not provisioned",
  lastHeartbeat: "Last heartbeat",
  outbox: "Outbox",
  ackedSeq: "Acked (server / gate)",
  clockOffset: "Clock offset",
  dataAge: "Data age",
  lanes: "Lanes",
  agoSeconds: "{n} s ago",
  agoMinutes: "{n} min ago",
  never: "never",
  commandsSupervisorOnly: "Commands are for supervisors. Your role (tech) lets you see them, not send them.",
  signingKeyTitle: "My signing key",
  signingKeyHelp:
    "Opening lanes takes your signature: a key made in this browser (it never leaves it), certified offline by the holder of the venue's root key.",
  signingKeyNone: "No key in this browser.",
  signingKeyUncertified: "Key made, waiting for its certificate.",
  signingKeyCertified: "Key certified for {name}, valid until {until}.",
  createSigningKey: "Create my key",
  replaceSigningKey: "Replace my key",
  signingKeyPublic: "Public key:",
  signingKeyRequestHint:
    "Hand this request to the holder of the root key, who certifies it: sesame supervisor-certificate --venue DIR --root FILE --request REQUEST --out CERTIFICATE",
  downloadKeyRequest: "Download the request",
  certificatePaste: "Certificate received (JSON)",
  importCertificate: "Import the certificate",
  certificateImported: "Certificate imported: you can open lanes from this browser.",
  freePassageNeedsKey: "To start free passage, create your key and import its certificate (above).",
  signingKeyUnsupported: "This browser cannot make an Ed25519 key: use an up-to-date browser.",
  freePassageTitle: "Free passage (emergency)",
  freePassageHelp: "Every lane opens without ticket checks until free passage ends.",
  target: "Target",
  wholeVenue: "Whole venue (every entrance)",
  startFreePassage: "Start free passage",
  endFreePassage: "End free passage",
  laneTitle: "Lock or unlock a lane",
  lane: "Lane",
  allLanes: "All lanes",
  lockLane: "Lock",
  unlockLane: "Unlock",
  messageTitle: "Message to the stewards",
  messageText: "Message text",
  sendMessage: "Send the message",
  recentCommands: "Recent commands",
  noCommands: "No command sent.",
  confirm: "Confirm",
  cancel: "Cancel",
  confirmTitle: "Confirm the command",
  "cmd_free-passage": "Free passage",
  "cmd_end-free-passage": "End of free passage",
  "cmd_lock-lane": "Lane lock",
  "cmd_unlock-lane": "Lane unlock",
  cmd_message: "Message",
  confirmFreePassage: "Open {target} for free passage? Tickets will no longer be checked.",
  confirmEndFreePassage: "End free passage for {target}?",
  confirmLock: "Lock {lane} of gate {gate}?",
  confirmUnlock: "Unlock {lane} of gate {gate}?",
  confirmMessage: "Send this message to the stewards of {target}?",
  targetEntrance: "entrance {name}",
  targetGate: "gate {gate}",
  gateLabel: "Gate {gate}",
  targetVenue: "the whole venue",
  theLane: "lane {lane}",
  allTheLanes: "every lane",
  gatesConcerned: "Gates concerned: {gates}",
  noGateConcerned: "No provisioned gate is concerned.",
  ackLabel: "{gate}: {state}",
  ack_done: "done",
  ack_refused: "refused",
  ack_expired: "expired",
  ack_pending: "pending",
  ack_noAnswer: "no answer",
  sentBy: "by {by} at {time}",
  sent: "Command sent.",
  errorPrefix: "Error: {message}",
  language: "Language",
  expectedOf: "{tickets} tickets",
};

const TABLES: Record<Language, Record<MessageKey, string>> = { fr: FR, en: EN };

export type Translate = (key: MessageKey, params?: Record<string, string | number>) => string;

export function translator(language: Language): Translate {
  const table = TABLES[language];
  return (key, params) =>
    table[key].replace(/\{(\w+)\}/g, (whole, name: string) =>
      params && name in params ? String(params[name]) : whole,
    );
}

export function initialLanguage(): Language {
  try {
    const saved = localStorage.getItem("sesame.language");
    if (saved === "fr" || saved === "en") return saved;
  } catch {
    // Storage may be disabled: fall back to the browser's language.
  }
  return navigator.language.toLowerCase().startsWith("fr") ? "fr" : "en";
}

export function saveLanguage(language: Language): void {
  try {
    localStorage.setItem("sesame.language", language);
  } catch {
    // Not persisted: the choice holds for this page only.
  }
}

export interface I18n {
  readonly language: Language;
  readonly t: Translate;
  /** Formats a Unix ms time in the venue's time zone. */
  readonly time: (ms: number, withSeconds?: boolean) => string;
  readonly number: (n: number) => string;
  /** A duration in seconds with one decimal below 10 s; `signed` shows + and −. */
  readonly seconds: (ms: number, signed?: boolean) => string;
}

export function makeI18n(language: Language, timeZone: string | undefined): I18n {
  const locale = language === "fr" ? "fr-FR" : "en-GB";
  const withSeconds = new Intl.DateTimeFormat(locale, {
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
    ...(timeZone ? { timeZone } : {}),
  });
  const minutes = new Intl.DateTimeFormat(locale, {
    hour: "2-digit",
    minute: "2-digit",
    ...(timeZone ? { timeZone } : {}),
  });
  const numbers = new Intl.NumberFormat(locale);
  const short = new Intl.NumberFormat(locale, { maximumFractionDigits: 1, minimumFractionDigits: 1 });
  const whole = new Intl.NumberFormat(locale, { maximumFractionDigits: 0 });
  return {
    language,
    t: translator(language),
    time: (ms, seconds = true) => (seconds ? withSeconds : minutes).format(ms),
    number: (n) => numbers.format(n),
    seconds: (ms, signed = false) => {
      // Rounded first, so that −0.04 s shows as 0,0 s and not as a negative zero.
      const s = Math.round(ms / 100) / 10 || 0;
      const text = (Math.abs(s) < 10 ? short : whole).format(Math.abs(s));
      return `${signed && s > 0 ? "+" : signed && s < 0 ? "−" : ""}${text} s`;
    },
  };
}

export const I18nContext = createContext<I18n>(makeI18n("fr", undefined));

export function useI18n(): I18n {
  return useContext(I18nContext);
}
