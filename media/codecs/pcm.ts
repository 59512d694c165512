/** Clamp a number to the 16-bit signed range after rounding (used after filtering/mixing). */
export function toInt16(v: number): number {
  const r = Math.round(v);
  return r > 32767 ? 32767 : r < -32768 ? -32768 : r;
}
