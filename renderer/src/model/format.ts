/** `14:03:07.412`: events come many a second, the milliseconds tell them apart. */
export function clock(at: number): string {
  const d = new Date(at);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}.${String(d.getMilliseconds()).padStart(3, '0')}`;
}

export function ms(value: number): string {
  return value >= 1000 ? `${(value / 1000).toFixed(value >= 10_000 ? 0 : 1)} s` : `${value >= 10 ? Math.round(value) : value.toFixed(1)} ms`;
}

/** Every digit, grouped: a total is read (and tested) as a number, never rounded to "12.3k". */
export function count(n: number): string {
  return n.toLocaleString('en-US');
}
