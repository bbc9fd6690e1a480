import type { Sound } from "./screens.js";

/*
 * Tones made with WebAudio oscillators (no audio files to ship or to block by CSP). A rising
 * two-note chime for ADMIT, a low double buzz for REFUSE, a repeated mid note for a steward check:
 * told apart without looking, in a noisy concourse.
 */

interface Note {
  readonly frequency: number;
  readonly ms: number;
  readonly type: OscillatorType;
  readonly gain: number;
}

const TUNES: Readonly<Record<Sound, readonly Note[]>> = {
  admit: [
    { frequency: 880, ms: 110, type: "sine", gain: 0.35 },
    { frequency: 1320, ms: 200, type: "sine", gain: 0.35 },
  ],
  refuse: [
    { frequency: 220, ms: 260, type: "square", gain: 0.18 },
    { frequency: 0, ms: 90, type: "square", gain: 0 },
    { frequency: 220, ms: 260, type: "square", gain: 0.18 },
  ],
  assisted: [
    { frequency: 660, ms: 140, type: "triangle", gain: 0.35 },
    { frequency: 0, ms: 80, type: "triangle", gain: 0 },
    { frequency: 660, ms: 140, type: "triangle", gain: 0.35 },
    { frequency: 0, ms: 80, type: "triangle", gain: 0 },
    { frequency: 660, ms: 140, type: "triangle", gain: 0.35 },
  ],
};

let context: AudioContext | undefined;

export function play(sound: Sound): void {
  try {
    context ??= new AudioContext();
    const ctx = context;
    // A kiosk without a user gesture yet may start suspended (Electron sets the autoplay policy).
    if (ctx.state === "suspended") void ctx.resume().catch(() => undefined);
    let at = ctx.currentTime + 0.01;
    for (const note of TUNES[sound]) {
      const seconds = note.ms / 1000;
      if (note.frequency > 0) {
        const oscillator = ctx.createOscillator();
        const gain = ctx.createGain();
        oscillator.type = note.type;
        oscillator.frequency.value = note.frequency;
        // Short ramps: no click at the start and end of each note.
        gain.gain.setValueAtTime(0, at);
        gain.gain.linearRampToValueAtTime(note.gain, at + 0.01);
        gain.gain.setValueAtTime(note.gain, at + seconds - 0.02);
        gain.gain.linearRampToValueAtTime(0, at + seconds);
        oscillator.connect(gain).connect(ctx.destination);
        oscillator.start(at);
        oscillator.stop(at + seconds);
      }
      at += seconds;
    }
  } catch {
    // No audio device: the screen still says everything.
  }
}
