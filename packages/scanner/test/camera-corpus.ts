import { generateCameraCorpus } from "@sesame/hardware-sim";
import { encodeCredentialText } from "@sesame/ticket";
import { createTestIssuer, T0 } from "@sesame/ticket/fixtures";
import { QrFrameDecoder } from "../src/index.js";

/**
 * Real credentials as the holder's phone shows them (rotating device proof), and printed
 * confirmations: the texts of the camera corpus.
 */
export function realCredentialTexts(count: number, seed = 5): string[] {
  const issuer = createTestIssuer(seed);
  const texts: string[] = [];
  for (let i = 0; i < count; i++) {
    if (i % 5 === 4) {
      const { credential } = issuer.issue({ kind: "printed", devicePublicKey: undefined });
      texts.push(encodeCredentialText(credential));
    } else {
      const { credential, device } = issuer.issue();
      texts.push(encodeCredentialText(issuer.show(credential, device, T0 + i * 15_000)));
    }
  }
  return texts;
}

export interface CorpusRun {
  readonly images: number;
  readonly decoded: number;
  readonly wrong: number;
  readonly failures: string[];
}

/** Renders and decodes one shard of the corpus; frames are dropped as soon as they are decoded. */
export function runCorpusShard(
  shard: number,
  shards: number,
  total: number,
  texts: readonly string[],
  // 480×480: the 480 lines of a 640×480 gate camera, same lens and code sizes, a quarter fewer pixels.
  frame: { size: number; codeFill: readonly [number, number] } = { size: 480, codeFill: [0.45, 0.7] },
): CorpusRun {
  const decoder = new QrFrameDecoder();
  let images = 0;
  let decoded = 0;
  let wrong = 0;
  const failures: string[] = [];
  for (const image of generateCameraCorpus({
    texts,
    count: total,
    width: frame.size,
    height: frame.size,
    codeFill: frame.codeFill,
    seed: 2024,
    supersample: 1,
    select: (index) => index % shards === shard,
  })) {
    images++;
    const result = decoder.decodeRgba({
      width: image.frame.width,
      height: image.frame.height,
      data: image.frame.rgba,
    });
    if (result === undefined) failures.push(`#${image.index} (${image.troubles.join(", ")})`);
    else if (result.text === image.text) decoded++;
    else wrong++;
  }
  return { images, decoded, wrong, failures };
}
