// DAR: zero-shot interactive retrieval with dialog reformulation, generated images and turn-dependent fusion.
// This package exports nothing yet: its issue has not landed.
export {};
