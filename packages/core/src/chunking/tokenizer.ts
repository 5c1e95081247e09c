/** Tokenizers the chunker and the embedding batcher can count with. */
export type TokenizerName = 'cl100k_base' | 'o200k_base';

/** A loaded BPE tokenizer (gpt-tokenizer). Special-token text such as `<|endoftext|>` counts as plain text. */
export interface Tokenizer {
  readonly name: TokenizerName;
  encode(text: string): number[];
  decode(tokens: readonly number[]): string;
  count(text: string): number;
}

const loaded = new Map<TokenizerName, Promise<Tokenizer>>();

/**
 * Loads a tokenizer on first use and caches it. `cl100k_base` is what OpenAI's
 * `text-embedding-3-*` and `ada-002` models count with; `o200k_base` is the GPT-4o family's.
 * Loading takes a few hundred milliseconds (the merge table is large), which is why it is lazy.
 */
export function loadTokenizer(name: TokenizerName = 'cl100k_base'): Promise<Tokenizer> {
  let tokenizer = loaded.get(name);
  if (!tokenizer) {
    tokenizer = importEncoding(name).then((encoding) => {
      // Treat special-token strings found in documents as ordinary text instead of throwing.
      const options = { disallowedSpecial: new Set<string>() };
      return {
        name,
        encode: (text: string) => encoding.encode(text, options),
        decode: (tokens: readonly number[]) => encoding.decode(tokens),
        count: (text: string) => encoding.countTokens(text, options),
      };
    });
    tokenizer.catch(() => loaded.delete(name));
    loaded.set(name, tokenizer);
  }
  return tokenizer;
}

async function importEncoding(name: TokenizerName) {
  switch (name) {
    case 'cl100k_base':
      return import('gpt-tokenizer/encoding/cl100k_base');
    case 'o200k_base':
      return import('gpt-tokenizer/encoding/o200k_base');
    default:
      throw new TypeError(
        `[tributary] [chunking] unknown tokenizer "${String(name)}"; use "cl100k_base" or "o200k_base".`,
      );
  }
}
