// MAI: two-stage semantic aggregation, MIO memory, Cyclic Combination Loss, rollback handling.
// This package exports nothing yet: its issue has not landed.
export {};
