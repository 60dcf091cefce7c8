// Records, loaders and validators for every benchmark format, the synthetic catalog and the MGF generator.
// This package exports nothing yet: its issue has not landed.
export {};
