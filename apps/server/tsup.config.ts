import { cp, stat } from 'node:fs/promises';
import { packageConfig } from '../../tsup.shared';

export default packageConfig({
  // testing.ts: the test world other packages' tests use (`@cir/server/testing`).
  entry: ['src/index.ts', 'src/testing.ts'],
  // The server finds its web page in `web/` beside its module: src/web from the sources, dist/web from the build.
  async onSuccess() {
    if ((await stat('src/web').catch(() => undefined))?.isDirectory()) {
      await cp('src/web', 'dist/web', {
        recursive: true,
        filter: (source) => !source.endsWith('.test.ts'),
      });
    }
  },
});
