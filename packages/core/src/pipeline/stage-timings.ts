/** The stages a document walks through; each is timed and counted separately. */
export type SyncStage = 'list' | 'load' | 'extract' | 'embed' | 'write';

export interface SyncStageFigures {
  /** Milliseconds spent in the stage, summed over its concurrent calls (busy time, not wall time). */
  ms: number;
  /** Calls of the stage: documents loaded or extracted, embedding requests, write statements, listed changes. */
  count: number;
}

export type SyncStageTimings = Record<SyncStage, SyncStageFigures>;

/** Accumulates per-stage busy time and counts; stages overlap, so the sum can exceed the run's duration. */
export class StageClock {
  readonly figures: SyncStageTimings = {
    list: { ms: 0, count: 0 },
    load: { ms: 0, count: 0 },
    extract: { ms: 0, count: 0 },
    embed: { ms: 0, count: 0 },
    write: { ms: 0, count: 0 },
  };

  async time<T>(stage: SyncStage, fn: () => Promise<T>, count = 1): Promise<T> {
    const started = performance.now();
    try {
      return await fn();
    } finally {
      this.add(stage, performance.now() - started, count);
    }
  }

  add(stage: SyncStage, ms: number, count = 1): void {
    const figure = this.figures[stage];
    figure.ms += ms;
    figure.count += count;
  }

  snapshot(): SyncStageTimings {
    const rounded = {} as SyncStageTimings;
    for (const [stage, figure] of Object.entries(this.figures) as [SyncStage, SyncStageFigures][]) {
      rounded[stage] = { ms: Math.round(figure.ms), count: figure.count };
    }
    return rounded;
  }
}
