import { app, BrowserWindow, Menu, session, type WebContents } from "electron";
import {
  type BackendSupervisor,
  backendCommand,
  configPathFrom,
  isAllowedNavigation,
  superviseBackend,
  type WindowLoss,
  WindowRecovery,
} from "./shell.js";

/*
 * The gate kiosk's Electron shell (docs/design.md §6): a locked-down full-screen window on the steward
 * UI, and a supervisor of the gate backend process. Nothing else: the backend (scanners, OSDP,
 * SQLite, MQTT) is a plain Node process and the UI a web page, both tested without Electron.
 *
 *   electron apps/kiosk/dist/electron/main.cjs --config /etc/sesame/gate-A1.json
 *
 * SESAME_ROOT: the repository (the backend's working directory; default: the current directory).
 * SESAME_NODE: the Node executable for the backend (default: `node` on PATH).
 */

const configPath = configPathFrom(process.argv, process.env);
if (configPath === undefined) {
  console.error("usage: sesame-kiosk --config <gate config file> (or SESAME_GATE_CONFIG)");
  app.exit(2);
}

// The admit and refuse tones must play without a tap on the screen first.
app.commandLine.appendSwitch("autoplay-policy", "no-user-gesture-required");
Menu.setApplicationMenu(null);

let window: BrowserWindow | undefined;
/** The origin of the running backend: the only one the window may show. */
let kioskOrigin: string | undefined;
let supervisor: BackendSupervisor | undefined;
/** Set once the app is asked to quit (SIGTERM, the session ending): then, and only then, windows may go. */
let quitting = false;
const recovery = new WindowRecovery();
/** Windows the shell destroyed itself to make new ones: their end is no loss. */
const retired = new WeakSet<BrowserWindow>();
/** A page that stays hung this long is crashed on purpose, and so reloaded. */
const HUNG_GRACE_MS = 10_000;

function lockDown(contents: WebContents): void {
  contents.setWindowOpenHandler(() => ({ action: "deny" }));
  const guard = (event: { preventDefault(): void }, url: string) => {
    if (!isAllowedNavigation(url, kioskOrigin)) event.preventDefault();
  };
  contents.on("will-navigate", guard);
  contents.on("will-redirect", guard);
  contents.on("will-attach-webview", (event) => event.preventDefault());
  contents.on("before-input-event", (event, input) => {
    // No developer tools, no zoom games: the steward's screen stays as built.
    const key = input.key.toLowerCase();
    if (key === "f12" || (input.control && input.shift && (key === "i" || key === "j" || key === "c")))
      event.preventDefault();
  });
}

function createWindow(): BrowserWindow {
  const created = new BrowserWindow({
    kiosk: true,
    fullscreen: true,
    autoHideMenuBar: true,
    show: false,
    backgroundColor: "#0b0f17",
    webPreferences: {
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInSubFrames: false,
      nodeIntegrationInWorker: false,
      webviewTag: false,
      devTools: false,
      spellcheck: false,
      navigateOnDragDrop: false,
      safeDialogs: true,
      autoplayPolicy: "no-user-gesture-required",
    },
  });
  created.removeMenu();
  created.once("ready-to-show", () => created.show());
  created.webContents.on("did-finish-load", () => recovery.shown());
  // A steward's Alt+F4 does not close the gate's screen; only quitting the app does.
  created.on("close", (event) => {
    if (!quitting) event.preventDefault();
  });
  // A crashed renderer would leave a dead screen at the gate: load the UI again (or a new window).
  created.webContents.on("render-process-gone", (_event, details) => {
    console.error(`kiosk window's renderer gone (${details.reason}, exit code ${details.exitCode})`);
    if (!quitting && !retired.has(created)) recover(created, "renderer-gone");
  });
  // A hung page (an endless loop) shows a frozen screen: give it a moment, then crash and reload it.
  let hung: NodeJS.Timeout | undefined;
  created.on("unresponsive", () => {
    hung ??= setTimeout(() => {
      hung = undefined;
      console.error(`kiosk window hung for ${HUNG_GRACE_MS / 1000} s: reloading it`);
      if (!created.isDestroyed()) created.webContents.forcefullyCrashRenderer();
    }, HUNG_GRACE_MS);
  });
  created.on("responsive", () => {
    clearTimeout(hung);
    hung = undefined;
  });
  created.on("closed", () => {
    clearTimeout(hung);
    if (window === created) window = undefined;
    // Closed anyway (destroyed): a kiosk has nobody to start the app again, so the window comes back.
    if (!quitting && !retired.has(created)) recover(created, "closed");
  });
  return created;
}

/** Shows the UI again after `lost` (WindowRecovery says how and when). */
function recover(lost: BrowserWindow, loss: WindowLoss): void {
  const action = recovery.lost(loss);
  setTimeout(() => {
    if (quitting) return;
    if (action.kind === "recreate" || lost.isDestroyed()) {
      if (window === lost) window = undefined;
      retired.add(lost);
      if (!lost.isDestroyed()) lost.destroy();
      window ??= createWindow();
    }
    if (kioskOrigin !== undefined) void window?.loadURL(kioskOrigin);
  }, action.afterMs);
}

function startBackend(config: string): void {
  supervisor = superviseBackend({
    command: backendCommand({
      configPath: config,
      repoRoot: process.env.SESAME_ROOT ?? process.cwd(),
      ...(process.env.SESAME_NODE ? { node: process.env.SESAME_NODE } : {}),
    }),
    // The backend is a Node process: it must not inherit Electron's "run as node" switch. It stops
    // when its standard input closes, that is when this shell is gone.
    env: { ...process.env, ELECTRON_RUN_AS_NODE: undefined, SESAME_STOP_ON_STDIN_EOF: "1" },
    onLine: (line) => console.log(`[gate] ${line}`),
    onUrl: (url) => {
      kioskOrigin = url;
      window ??= createWindow();
      // First start or a restart (maybe on another port): load the UI from the new backend.
      void window.loadURL(url);
    },
    onExit: ({ code, signal, restartInMs }) =>
      console.error(`gate backend ended (${signal ?? `code ${code}`}); restarting in ${restartInMs} ms`),
  });
}

if (!app.requestSingleInstanceLock()) app.quit();

app.on("web-contents-created", (_event, contents) => lockDown(contents));

app.whenReady().then(() => {
  // Only the camera, only for the kiosk's own page (camera scanner); nothing else is ever granted.
  const allowed = (permission: string, origin: string) =>
    permission === "media" && isAllowedNavigation(origin, kioskOrigin);
  session.defaultSession.setPermissionRequestHandler((_contents, permission, callback, details) =>
    callback(
      allowed(permission, details.requestingUrl) &&
        !("mediaTypes" in details && (details.mediaTypes ?? []).includes("audio")),
    ),
  );
  session.defaultSession.setPermissionCheckHandler((_contents, permission, requestingOrigin) =>
    allowed(permission, requestingOrigin),
  );
  if (configPath !== undefined) startBackend(configPath);
});

// Electron quits when the last window closes unless told otherwise: the kiosk's window comes back
// (recover), so the app stays.
app.on("window-all-closed", () => {
  if (quitting) app.quit();
});

let backendStopped = false;
app.on("before-quit", (event) => {
  quitting = true;
  if (backendStopped || supervisor === undefined) return;
  // Let the backend finish its writes (SQLite, the outbox) before the shell goes.
  event.preventDefault();
  backendStopped = true;
  void supervisor.stop().finally(() => app.quit());
});
