import { packageConfig } from '../../tsup.shared';

// testing.ts: the tiny trained encoder other packages' tests use (`@cir/encoders/testing`).
export default packageConfig({ entry: ['src/index.ts', 'src/testing.ts'] });
