// Batch-based classification (InfoNCE), Cyclic Combination Loss, CoLLM loss, MAI's L_sim / L_naive / L_pre.
// This package exports nothing yet: its issue has not landed.
export {};
