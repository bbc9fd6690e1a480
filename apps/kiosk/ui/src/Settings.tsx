import type { Translate } from "./i18n.js";
import type { KioskSettings } from "./settings.js";
import type { KioskState, LaneMode, ScannerLayoutName } from "./types.js";

/* The kiosk's own settings (kept in this screen's storage) and the lanes' modes (on the gate). */

interface SettingsProps {
  readonly t: Translate;
  readonly state: KioskState;
  readonly settings: KioskSettings;
  readonly wedgeLane: number;
  readonly onChange: (settings: KioskSettings) => void;
  readonly onLaneMode: (lane: number, mode: LaneMode) => void;
}

const LAYOUTS: readonly ScannerLayoutName[] = ["us", "fr"];
const MODES: readonly LaneMode[] = ["normal", "locked", "free-passage"];

export function Settings({ t, state, settings, wedgeLane, onChange, onLaneMode }: SettingsProps) {
  const { cameraLane: _camera, ...withoutCamera } = settings;
  return (
    <section className="settings" aria-label={t("settingsTitle")}>
      <h2>{t("settingsTitle")}</h2>
      <fieldset>
        <legend>{t("settingsLayout")}</legend>
        {LAYOUTS.map((layout) => (
          <label key={layout} className="choice">
            <input
              type="radio"
              name="scanner-layout"
              value={layout}
              checked={settings.scannerLayout === layout}
              onChange={() => onChange({ ...settings, scannerLayout: layout })}
            />
            {t(`layout_${layout}`)}
          </label>
        ))}
      </fieldset>
      {state.lanes.length > 1 ? (
        <fieldset>
          <legend>{t("settingsWedgeLane")}</legend>
          <select
            aria-label={t("settingsWedgeLane")}
            value={wedgeLane}
            onChange={(e) => onChange({ ...settings, wedgeLane: Number(e.target.value) })}
          >
            {state.lanes.map((l) => (
              <option key={l.lane} value={l.lane}>
                {t("lane", { lane: l.lane })}
              </option>
            ))}
          </select>
        </fieldset>
      ) : null}
      <fieldset>
        <legend>{t("settingsCamera")}</legend>
        <select
          aria-label={t("settingsCamera")}
          value={settings.cameraLane ?? 0}
          onChange={(e) => {
            const lane = Number(e.target.value);
            onChange(lane > 0 ? { ...settings, cameraLane: lane } : withoutCamera);
          }}
        >
          <option value={0}>{t("settingsCameraOff")}</option>
          {state.lanes.map((l) => (
            <option key={l.lane} value={l.lane}>
              {t("lane", { lane: l.lane })}
            </option>
          ))}
        </select>
      </fieldset>
      <fieldset>
        <legend>{t("settingsSound")}</legend>
        <label className="choice">
          <input
            type="checkbox"
            checked={settings.sound}
            onChange={(e) => onChange({ ...settings, sound: e.target.checked })}
          />
          {settings.sound ? t("settingsSoundOn") : t("settingsSoundOff")}
        </label>
      </fieldset>
      <fieldset>
        <legend>{t("settingsLaneModes")}</legend>
        {state.lanes.map((l) => (
          <div key={l.lane} className="lane-mode" data-lane-mode={l.lane}>
            <span>{t("lane", { lane: l.lane })}</span>
            {MODES.map((mode) => (
              <button
                key={mode}
                type="button"
                className={l.mode === mode ? "primary" : "secondary"}
                aria-pressed={l.mode === mode}
                onClick={() => onLaneMode(l.lane, mode)}
              >
                {t(`mode_${mode}`)}
              </button>
            ))}
          </div>
        ))}
      </fieldset>
    </section>
  );
}
