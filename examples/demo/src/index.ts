// The demo as a library: the `tributary demo` command of @tributary/cli runs these.
export {
  CHANGE_QUERY,
  CHANGE_SENTENCE,
  type ChangeStepOptions,
  type ChangeStepResult,
  runChangeStep,
} from './change-and-resync.ts';
export {
  DEFAULT_CORPUS,
  DEFAULT_QUERY,
  DEMO_EXTENSIONS,
  DemoError,
  type DemoOutput,
  type DemoResult,
  listCorpusFiles,
  type RunDemoOptions,
  runDemo,
} from './demo.ts';
