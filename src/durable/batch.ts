/** Packing a topic's pending metric frames into as few `batch` frames as a size cap allows. */

/** Most characters in one batch frame (at most 3 bytes each in UTF-8: under 1 MiB on the wire). */
export const MAX_BATCH_CHARS = 256 * 1024;

export interface Packed {
  /** A lone metric frame as stored, or a `batch` frame around several. */
  text: string;
  first: number;
  last: number;
}

/**
 * Frames (stored texts of consecutive seqs from `first`) as broadcasts: runs of them up to
 * `maxChars` per `batch` frame, spliced in without re-serializing; a run of one stays a `metric`
 * frame, and so does a frame too big to share a batch.
 */
export function packBatches(topic: string, frames: readonly string[], first: number, maxChars = MAX_BATCH_CHARS): Packed[] {
  const open = `{"type":"batch","topic":${JSON.stringify(topic)},"frames":[`;
  const close = "]}";
  const packed: Packed[] = [];
  let run: string[] = [];
  let runFirst = first;
  let size = open.length + close.length;
  const flush = () => {
    if (run.length === 0) return;
    const text = run.length === 1 ? (run[0] as string) : `${open}${run.join(",")}${close}`;
    packed.push({ text, first: runFirst, last: runFirst + run.length - 1 });
    runFirst += run.length;
    run = [];
    size = open.length + close.length;
  };
  for (const frame of frames) {
    if (run.length > 0 && size + frame.length + 1 > maxChars) flush();
    run.push(frame);
    size += frame.length + 1;
  }
  flush();
  return packed;
}
