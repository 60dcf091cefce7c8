// Metrics and benchmark protocols, result tables and plots.
// This package exports nothing yet: its issue has not landed.
export {};
