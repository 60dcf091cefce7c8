// HTTP API and web page for interactive multi-turn retrieval.
// This package exports nothing yet: its issue has not landed.
export {};
