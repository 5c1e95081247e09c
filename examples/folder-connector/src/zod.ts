import { createRequire } from 'node:module';
import type * as Zod from '../../../packages/core/node_modules/zod/index.js';

// A host app writes `import { z } from 'zod'` (zod is what `configSchema` takes). This example
// package declares no dependency of its own besides @tributary/core, so it borrows the zod copy
// @tributary/core depends on: resolved from core's own location at run time, typed from the same
// files. Replace this module with `export { z } from 'zod'` once zod is in package.json.
const requireFromCore = createRequire(createRequire(import.meta.url).resolve('@tributary/core'));

export const { z } = requireFromCore('zod') as typeof Zod;
