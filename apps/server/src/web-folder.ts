import { fileURLToPath } from 'node:url';

/**
 * The web page's folder. Resolved from this module's own location: `src/web/` when running from the sources,
 * `dist/web/` from the build (tsup bundles this file into `dist/index.js` and copies `src/web` next to it).
 */
export const WEB_FOLDER = fileURLToPath(new URL('./web/', import.meta.url));
