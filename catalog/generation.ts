// The contract between `npm run gen` (scripts/generate.ts, which runs and checks generators) and
// the areas that contribute one: each area exports a Generator, and the driver imports them. The
// types live here, upstream of both, so no area imports the driver and the driver's import of the
// generators is the only arrow between them.

export interface GeneratedFile {
  /** Path relative to the repository root. */
  readonly path: string;
  readonly content: string;
}

export interface Generator {
  readonly name: string;
  /** Directories ('dir/') or single files, relative to the root, that this generator produces. */
  readonly owns: readonly string[];
  generate(): GeneratedFile[] | Promise<GeneratedFile[]>;
}
