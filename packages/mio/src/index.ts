// DPC-kNN density-peaks clustering and token selection (MAI's Multi-turn Iterative Optimization).
// This package exports nothing yet: its issue has not landed.
export {};
