export type {
  DuplicateKind,
  DuplicateLink,
  DuplicateMember,
  LinkDuplicatesEntry,
  LinkDuplicatesInput,
  ListDuplicatesInput,
  SearchAlternative,
} from './duplicate-types.js';
export {
  DEFAULT_NEAR_DUPLICATE_THRESHOLD,
  type DuplicateDetectionOptions,
} from './link-duplicates-stage.js';
export {
  DEFAULT_MIN_SHINGLES,
  DEFAULT_MINHASH_PERMUTATIONS,
  DEFAULT_SHINGLE_SIZE,
  type MinHashOptions,
  minHashSignature,
  shingleWords,
  signatureSimilarity,
} from './minhash.js';
