// Gallery stores (exact and embedded ANN) and ranking.
// This package exports nothing yet: its issue has not landed.
export {};
