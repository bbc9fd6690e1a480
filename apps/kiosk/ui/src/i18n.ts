import type { Language } from "@sesame/gate-core";

/*
 * Every string of the steward UI, in French and English. The steward messages of decisions
 * (headline, what to tell the holder) come from @sesame/gate-core with the decision itself.
 * `{name}` placeholders are filled by `t(…, { name })`.
 */

const FR = {
  appTitle: "Sésame",
  gate: "Porte {gate}",
  entrance: "Entrée {code}",
  lane: "Couloir {lane}",
  laneEntry: "entrée",
  laneExit: "sortie",
  noSession: "Aucune session ouverte",

  // Lane screens: the big word, then the line under it.
  readyWord: "PRÊT",
  readyLine: "Présentez votre billet",
  checkingWord: "VÉRIFICATION…",
  admitWord: "ADMIS",
  refuseWord: "REFUSÉ",
  assistedWord: "CONTRÔLE",
  awaitingWord: "PASSAGE",
  awaitingLine: "Passage en attente…",
  awaitingManualLine: "Laissez passer la personne, puis confirmez",
  confirmPassage: "Passage effectué",
  outOfOrderWord: "HORS SERVICE",
  outOfOrderLine: "Contrôleur de couloir injoignable",
  outOfOrderTell: "Orientez vers le couloir voisin",
  fireAlarmWord: "ALARME INCENDIE",
  fireAlarmLine: "Passage libre — évacuation",
  freePassageWord: "PASSAGE LIBRE",
  freePassageLine: "Avancez sans scanner",
  lockedWord: "FERMÉ",
  lockedLine: "Couloir fermé : utilisez le couloir voisin",
  tellHolder: "À dire :",
  seat: "Place {seat}",
  standing: "Placement libre",
  zone: "Zone {code}",
  holder: "Titulaire",
  idCheckedAdmit: "Pièce vérifiée — admettre",
  decline: "Refuser",
  stewardNeeded: "Connexion steward requise",
  controllerOffline: "contrôleur hors ligne",
  controllerOnline: "contrôleur en ligne",
  controllerNone: "couloir manuel",

  // Categories carried by tickets.
  cat_ACCESSIBILITY: "PMR",
  cat_CHILD: "Enfant",
  cat_STAFF: "Personnel",
  cat_ID_CHECK: "Contrôle d'identité",
  cat_COMPANION: "Accompagnateur",
  cat_PRESS: "Presse",
  cat_HOSPITALITY: "Hospitalité",

  // Banners.
  backendLost: "Borne déconnectée du portique — reconnexion…",
  offline: "HORS LIGNE — les entrées continuent",
  dataAge: "données d'il y a {age}",
  clockSuspect: "Horloge du portique suspecte : appelez un superviseur",
  noticeFrom: "Message de {by} — {time}",
  noticeDismiss: "Lu",
  scannerProblem: "Lecture du scanner incomplète : vérifiez le pays du clavier du scanner",

  // Header.
  signIn: "Connexion steward",
  signOut: "Déconnexion",
  lookup: "Confirmation imprimée",
  diagnostics: "Diagnostic",
  settings: "Réglages",
  close: "Fermer",
  language: "Langue",

  // PIN pad.
  pinTitle: "Connexion steward",
  pinPrompt: "Saisissez votre code PIN",
  pinField: "Code PIN",
  pinOk: "Valider",
  pinErase: "Effacer",
  pinWrong: "Code PIN incorrect ({left} essai(s) restant(s))",
  pinWrongNoCount: "Code PIN incorrect",
  pinLocked: "Trop de codes incorrects : connexion bloquée encore {seconds} s",
  pinError: "Connexion impossible : {error}",

  // Printed confirmation.
  lookupTitle: "Confirmation imprimée",
  lookupField: "Référence de commande ou nom",
  lookupPlaceholder: "P24-… ou nom du titulaire",
  lookupSearch: "Rechercher",
  lookupHint: "Au moins 2 caractères. Les accents ne comptent pas.",
  lookupNone: "Aucun billet trouvé pour les sessions en cours",
  lookupMore: "D'autres billets correspondent : précisez la recherche",
  lookupOtherSessions: "{count} billet(s) de cette commande pour d'autres sessions",
  lookupOrder: "Commande {order}",
  lookupEntered: "Déjà entré à {time}, porte {gate}",
  lookupPending: "Passage en cours",
  lookupCancelled: "Annulé",
  lookupOtherEntrance: "Entrée porte {code}",
  lookupSession: "Session {code}",
  lookupIdChecked: "J'ai vérifié la pièce d'identité",
  lookupAdmitAt: "Couloir",
  lookupAdmit: "Admettre ({count})",
  lookupAdmitted: "Admis — couloir {lane}",
  lookupRefused: "Non admis",
  lookupSelect: "Sélectionner le billet de {holder}",
  lookupSupervisor: "Superviseur requis : {why}",
  lookupNeedsSupervisor: "un superviseur doit l'autoriser",

  // A supervisor's override of a manual admission.
  overrideTitle: "Autorisation d'un superviseur",
  overrideWhy:
    "Seul, un steward n'admet à la main que les confirmations imprimées de l'entrée {code}. Pour les billets ci-dessous, appelez un superviseur (radio, canal superviseurs) : il saisit ici son identifiant, son code et la raison.",
  overrideSupervisor: "Identifiant du superviseur",
  overrideCode: "Code du superviseur",
  overrideNote: "Raison (obligatoire)",
  overrideAdmit: "Admettre avec l'autorisation ({count})",
  overrideNoSupervisor: "Saisissez l'identifiant du superviseur.",
  overrideUnknownSupervisor:
    "Superviseur inconnu : vérifiez l'identifiant ({left} essai(s) restant(s)). Superviseurs prévenus.",
  overrideBadCode: "Un code superviseur a 8 à 12 chiffres.",
  overrideWrongCode: "Code superviseur faux ({left} essai(s) restant(s)). Superviseurs prévenus.",
  overrideEmptyNote: "Écrivez la raison : pourquoi ce billet est-il admis ?",
  overrideLocked:
    "Trop de codes faux : autorisations bloquées à cette porte pendant {minutes} min. Superviseurs prévenus.",

  // Diagnostics.
  diagTitle: "Diagnostic de la porte",
  diagData: "Âge des données",
  diagLastContact: "Dernier contact serveur",
  diagBundle: "Lot de billets généré",
  diagFeed: "Séquence du flux",
  diagTrust: "Version de la liste de confiance",
  diagClock: "Écart d'horloge",
  diagClockSuspect: "Horloge suspecte",
  diagOutbox: "Événements à envoyer",
  diagInFlight: "en cours d'envoi",
  diagBroker: "Courtier MQTT",
  diagConnected: "connecté",
  diagDisconnected: "déconnecté",
  diagNoSync: "pas de synchronisation (porte autonome)",
  diagLanes: "Couloirs",
  diagScanners: "Scanners",
  diagNoScanners: "Aucun scanner déclaré",
  diagWedge: "Scanner clavier : couloir {lane}, clavier {layout}",
  diagNotices: "Messages reçus",
  yes: "oui",
  no: "non",
  never: "jamais",
  ago: "il y a {age}",
  scanner_ok: "ok",
  scanner_offline: "hors ligne",
  scanner_error: "erreur",
  mode_normal: "normal",
  mode_locked: "fermé",
  "mode_free-passage": "passage libre",
  fireAlarmShort: "alarme incendie",

  // Settings.
  settingsTitle: "Réglages de la borne",
  settingsLayout: "Pays du clavier du scanner",
  layout_us: "QWERTY (États-Unis)",
  layout_fr: "AZERTY (France)",
  settingsWedgeLane: "Couloir du scanner clavier",
  settingsSound: "Sons",
  settingsSoundOn: "activés",
  settingsSoundOff: "coupés",
  settingsCamera: "Caméra",
  settingsCameraOff: "aucune",
  settingsLaneModes: "Mode des couloirs",
  settingsStewardOnly: "Connectez-vous pour modifier les réglages",
  cameraError: "Caméra indisponible : {error}",

  // Generic.
  error: "Erreur : {error}",
} as const;

export type StringKey = keyof typeof FR;

const EN: Record<StringKey, string> = {
  appTitle: "Sésame",
  gate: "Gate {gate}",
  entrance: "Entrance {code}",
  lane: "Lane {lane}",
  laneEntry: "entry",
  laneExit: "exit",
  noSession: "No session open",

  readyWord: "READY",
  readyLine: "Show your ticket",
  checkingWord: "CHECKING…",
  admitWord: "ADMIT",
  refuseWord: "REFUSED",
  assistedWord: "CHECK",
  awaitingWord: "PASSAGE",
  awaitingLine: "Waiting for passage…",
  awaitingManualLine: "Let the holder through, then confirm",
  confirmPassage: "Passage done",
  outOfOrderWord: "OUT OF ORDER",
  outOfOrderLine: "Lane controller unreachable",
  outOfOrderTell: "Send people to the next lane",
  fireAlarmWord: "FIRE ALARM",
  fireAlarmLine: "Free passage — evacuation",
  freePassageWord: "FREE PASSAGE",
  freePassageLine: "Walk through without scanning",
  lockedWord: "LOCKED",
  lockedLine: "Lane closed: use the next lane",
  tellHolder: "Tell the holder:",
  seat: "Seat {seat}",
  standing: "Standing",
  zone: "Zone {code}",
  holder: "Holder",
  idCheckedAdmit: "ID checked — admit",
  decline: "Decline",
  stewardNeeded: "Steward sign-in needed",
  controllerOffline: "controller offline",
  controllerOnline: "controller online",
  controllerNone: "manual lane",

  cat_ACCESSIBILITY: "Accessibility",
  cat_CHILD: "Child",
  cat_STAFF: "Staff",
  cat_ID_CHECK: "ID check",
  cat_COMPANION: "Companion",
  cat_PRESS: "Press",
  cat_HOSPITALITY: "Hospitality",

  backendLost: "Kiosk lost its gate backend — reconnecting…",
  offline: "OFFLINE — still admitting",
  dataAge: "data {age} old",
  clockSuspect: "Gate clock suspect: call a supervisor",
  noticeFrom: "Message from {by} — {time}",
  noticeDismiss: "Got it",
  scannerProblem: "Incomplete scanner read: check the scanner's keyboard country",

  signIn: "Steward sign-in",
  signOut: "Sign out",
  lookup: "Printed confirmation",
  diagnostics: "Diagnostics",
  settings: "Settings",
  close: "Close",
  language: "Language",

  pinTitle: "Steward sign-in",
  pinPrompt: "Enter your PIN",
  pinField: "PIN",
  pinOk: "OK",
  pinErase: "Erase",
  pinWrong: "Wrong PIN ({left} attempt(s) left)",
  pinWrongNoCount: "Wrong PIN",
  pinLocked: "Too many wrong PINs: sign-in locked for {seconds} s",
  pinError: "Cannot sign in: {error}",

  lookupTitle: "Printed confirmation",
  lookupField: "Order reference or name",
  lookupPlaceholder: "P24-… or holder's name",
  lookupSearch: "Search",
  lookupHint: "At least 2 characters. Accents do not matter.",
  lookupNone: "No ticket found for the sessions in progress",
  lookupMore: "More tickets match: refine the search",
  lookupOtherSessions: "{count} ticket(s) of this order for other sessions",
  lookupOrder: "Order {order}",
  lookupEntered: "Already entered at {time}, gate {gate}",
  lookupPending: "Passage in progress",
  lookupCancelled: "Cancelled",
  lookupOtherEntrance: "Use gate {code}",
  lookupSession: "Session {code}",
  lookupIdChecked: "I checked the ID",
  lookupAdmitAt: "Lane",
  lookupAdmit: "Admit ({count})",
  lookupAdmitted: "Admitted — lane {lane}",
  lookupRefused: "Not admitted",
  lookupSelect: "Select the ticket of {holder}",
  lookupSupervisor: "Supervisor needed: {why}",
  lookupNeedsSupervisor: "a supervisor must authorize it",

  overrideTitle: "A supervisor's authorization",
  overrideWhy:
    "Alone, a steward admits by hand only printed confirmations of entrance {code}. For the tickets below, call a supervisor (radio, supervisors' channel): they type their id, their code and the reason here.",
  overrideSupervisor: "Supervisor's id",
  overrideCode: "Supervisor's code",
  overrideNote: "Reason (required)",
  overrideAdmit: "Admit on the supervisor's authorization ({count})",
  overrideNoSupervisor: "Enter the supervisor's id.",
  overrideUnknownSupervisor: "Unknown supervisor: check the id ({left} tries left). Supervisors alerted.",
  overrideBadCode: "A supervisor's code is 8 to 12 digits.",
  overrideWrongCode: "Wrong supervisor code ({left} tries left). Supervisors alerted.",
  overrideEmptyNote: "Write the reason: why is this ticket admitted?",
  overrideLocked:
    "Too many wrong codes: authorizations are locked at this gate for {minutes} min. Supervisors alerted.",

  diagTitle: "Gate diagnostics",
  diagData: "Data age",
  diagLastContact: "Last server contact",
  diagBundle: "Ticket bundle generated",
  diagFeed: "Feed sequence",
  diagTrust: "Trust-list version",
  diagClock: "Clock offset",
  diagClockSuspect: "Clock suspect",
  diagOutbox: "Events to send",
  diagInFlight: "being sent",
  diagBroker: "MQTT broker",
  diagConnected: "connected",
  diagDisconnected: "disconnected",
  diagNoSync: "no sync (stand-alone gate)",
  diagLanes: "Lanes",
  diagScanners: "Scanners",
  diagNoScanners: "No scanner declared",
  diagWedge: "Keyboard scanner: lane {lane}, {layout} keyboard",
  diagNotices: "Messages received",
  yes: "yes",
  no: "no",
  never: "never",
  ago: "{age} ago",
  scanner_ok: "ok",
  scanner_offline: "offline",
  scanner_error: "error",
  mode_normal: "normal",
  mode_locked: "locked",
  "mode_free-passage": "free passage",
  fireAlarmShort: "fire alarm",

  settingsTitle: "Kiosk settings",
  settingsLayout: "Scanner keyboard country",
  layout_us: "QWERTY (US)",
  layout_fr: "AZERTY (French)",
  settingsWedgeLane: "Keyboard scanner lane",
  settingsSound: "Sounds",
  settingsSoundOn: "on",
  settingsSoundOff: "off",
  settingsCamera: "Camera",
  settingsCameraOff: "none",
  settingsLaneModes: "Lane modes",
  settingsStewardOnly: "Sign in to change the settings",
  cameraError: "Camera unavailable: {error}",

  error: "Error: {error}",
};

export const STRINGS: Readonly<Record<Language, Record<StringKey, string>>> = { fr: FR, en: EN };

export type Translate = (key: StringKey, params?: Readonly<Record<string, string | number>>) => string;

export function translator(language: Language): Translate {
  const table = STRINGS[language];
  return (key, params = {}) =>
    table[key].replace(/\{(\w+)\}/g, (whole, name: string) =>
      name in params ? String(params[name]) : whole,
    );
}

/** "45 s", "12 min", "3 h 05", "2 j" — how old data is, short enough to read from two metres. */
export function formatAge(ms: number, language: Language): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ${String(minutes % 60).padStart(2, "0")}`;
  return `${Math.floor(hours / 24)} ${language === "fr" ? "j" : "d"}`;
}

/** "+1.2 s", "−350 ms". */
export function formatOffset(ms: number): string {
  const sign = ms < 0 ? "−" : "+";
  const abs = Math.abs(ms);
  return abs < 1000 ? `${sign}${Math.round(abs)} ms` : `${sign}${(abs / 1000).toFixed(1)} s`;
}
