/**
 * Test fixtures of the server, for the packages that drive it in their own tests (the CLI): a 210-picture world
 * with a tiny trained mini encoder and an untrained MAI provider, made in a few seconds. Not for production use.
 */
export { createTinyWorld, type TinyWorld } from './__fixtures__/tiny-world';
