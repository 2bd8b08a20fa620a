// The facts ship inside the program (a text import the bundler embeds), parsed once at start.
import factsText from "../../facts.txt" with { type: "text" };

export interface Fact {
  /** 1-based line number in facts.txt: stable as long as the file only grows. */
  id: number;
  text: string;
}

export function parseFacts(text: string): Fact[] {
  const lines = text.endsWith("\n") ? text.slice(0, -1).split("\n") : text.split("\n");
  return lines.map((line, i) => {
    if (line.trim() === "") throw new Error(`facts.txt line ${i + 1} is blank`);
    return { id: i + 1, text: line };
  });
}

export const facts: readonly Fact[] = parseFacts(factsText);
