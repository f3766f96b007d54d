/**
 * A positive amount of dollars too small for a fixed number of decimals, written with two
 * significant digits as a plain decimal (0.00000035, never toPrecision's 3.5e-7), at most
 * 12 decimals. Pure: the CLI's tables, the web UI and a budget refusal's message share it.
 */
export function usdFraction(usd: number): string {
  return usd.toFixed(Math.min(12, 1 - Math.floor(Math.log10(usd))));
}
