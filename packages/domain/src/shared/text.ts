/** The length of a text in characters (Unicode code points), as JSON Schema's maxLength counts it. */
export function characterCount(text: string): number {
  let count = 0;
  for (const _ of text) count++;
  return count;
}
