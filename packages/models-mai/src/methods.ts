import { ALL_CCL_TERMS, type CclTerms, DEFAULT_MAI_CONFIG, type MaiConfig } from './config';

/** A trainable method variant: a name for tables and the configuration it trains with. */
export interface MaiVariant {
  name: string;
  description: string;
  config: MaiConfig;
}

const variant = (name: string, description: string, overrides: Partial<MaiConfig>): MaiVariant => ({
  name,
  description,
  config: { ...DEFAULT_MAI_CONFIG, ...overrides },
});

const FUSION_ONLY: CclTerms = {
  fusionToTarget: true,
  targetToModification: false,
  modificationToCaption: false,
  captionToFusion: false,
};

/** MAI and the trained baselines that `cir eval mai` compares. */
export const MAI_METHODS: MaiVariant[] = [
  variant('mai', 'MAI: TSA (BSA + MSA) + MIO memory + CCL, rollback and combination turns', {}),
  variant('mai-concat', 'MAI with concat memory: every turn’s tokens kept (grows with the turns)', {
    memory: 'concat',
  }),
  variant(
    'last-turn',
    '"multiple single-turn": the same model on the last turn only (no memory, no retrospection)',
    {
      memory: 'none',
      rollback: false,
      combination: false,
    },
  ),
];

/** The paper's Table 3 (components), Table 5 (memory policies) and Table 6 (CCL terms). */
export const MAI_ABLATIONS: { table: string; rows: MaiVariant[] }[] = [
  {
    table: 'Table 3: components',
    rows: [
      variant('Base', 'single-stage fusion, recurrent memory, fusion→target loss', {
        twoStage: false,
        memory: 'recurrent',
        ccl: FUSION_ONLY,
      }),
      variant('+TSA', 'two-stage aggregation with captions', { memory: 'recurrent', ccl: FUSION_ONLY }),
      variant('+MIO', 'MIO memory', { twoStage: false, memory: 'mio', ccl: FUSION_ONLY }),
      variant('+TSA+CCL', 'two-stage + Cyclic Combination Loss', { memory: 'recurrent' }),
      variant('+TSA+MIO', 'two-stage + MIO', { ccl: FUSION_ONLY }),
      variant('full', 'TSA + CCL + MIO (MAI)', {}),
    ],
  },
  {
    table: 'Table 5: memory policies',
    rows: (['none', 'concat', 'recurrent', 'mio'] as const).map((memory) =>
      variant(`memory=${memory}`, `${memory} memory`, { memory }),
    ),
  },
  {
    table: 'Table 6: CCL terms',
    rows: [
      ...(Object.keys(ALL_CCL_TERMS) as (keyof CclTerms)[]).map((term) =>
        variant(`w/o ${term}`, `CCL without ${term}`, { ccl: { ...ALL_CCL_TERMS, [term]: false } }),
      ),
      variant('all terms', 'full CCL', {}),
    ],
  },
];
