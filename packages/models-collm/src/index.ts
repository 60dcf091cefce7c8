// CoLLM: on-the-fly triplet synthesis, LLM query composer, 3-way contrastive loss.
// This package exports nothing yet: its issue has not landed.
export {};
