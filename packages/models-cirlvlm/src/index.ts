// CIR-LVLM: connector, task prompts, prompt pool, position-weighted pooling.
// This package exports nothing yet: its issue has not landed.
export {};
